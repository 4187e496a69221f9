// The step view of report.html: the list of steps (with search), one step at a time.
// Links anywhere on the page with data-step="N" (timeline, changes, checks) open step N.
const data = JSON.parse(document.getElementById('record').textContent);
const steps = data.steps; let cur = 0; let showTree = false;
const list = document.getElementById('list'); const view = document.getElementById('step');
const search = document.getElementById('search');
const byNumber = new Map(steps.map((s, i) => [String(s.step ?? i), i]));
// Extra panels for the step view (e.g. a terminal player): functions (step) -> html.
window.clawrigStepPanels = window.clawrigStepPanels || [];
function esc(s){return String(s).replace(/[&<>"']/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;',
'"':'&quot;',"'":'&#39;'}[c]));}
function label(s){const a=s.action||{};let t=(a.action||'?');
 if(a.device)t+=' @'+a.device; if(a.x!==undefined&&a.x!==null)t+=' ('+a.x+','+a.y+')';
 if(a.element!==undefined&&a.element!==null)t+=' #'+a.element;
 if(a.command)t+=': '+a.command.slice(0,40); if(a.text)t+=': '+a.text.slice(0,40);
 if(a.app)t+=': '+a.app; if(a.path)t+=': '+a.path;
 if(a.keys)t+=': '+a.keys.map(k=>typeof k==='string'?k:k.text).join(' ').slice(0,40); return t;}
function haystack(s){return [label(s),JSON.stringify(s.action||{}),JSON.stringify(s.result||{}),
 s.agent_message||''].join(' ').toLowerCase();}
const hay = steps.map(haystack);
steps.forEach((s,i)=>{const d=document.createElement('div');
 d.textContent=(s.step??i)+'  '+label(s); if(s.result&&s.result.ok===false)d.className='err';
 d.onclick=()=>show(i); list.appendChild(d);});
function shot(src, cap, s){
 let h='<figure><div class="frame"><img alt="'+cap+'" src="'+esc(src)+'">';
 const hit=s.hit; if(hit&&cap==='before'){const [w,ht]=hit.screen,b=hit.bounds;
  h+='<div class="hit" title="'+esc(hit.label)+'" style="left:'+(100*b[0]/w)+'%;top:'+(100*b[1]/ht)+
   '%;width:'+(100*(b[2]-b[0])/w)+'%;height:'+(100*(b[3]-b[1])/ht)+'%"></div>';}
 return h+'</div><figcaption>'+cap+(hit&&cap==='before'?': '+esc(hit.label):'')+'</figcaption></figure>';}
function show(i){if(!steps.length){view.innerHTML='<p>No steps were recorded.</p>';return;}
 cur=Math.max(0,Math.min(steps.length-1,i)); const s=steps[cur];
 [...list.children].forEach((c,j)=>c.classList.toggle('sel',j===cur));
 list.children[cur].scrollIntoView({block:'nearest'});
 document.querySelectorAll('#timeline .mk.sel').forEach(m=>m.classList.remove('sel'));
 document.querySelectorAll('#timeline .mk[data-step="'+(s.step??cur)+'"]').forEach(m=>m.classList.add('sel'));
 const a=s.action||{}, r=s.result||{}, f=s.files||{};
 let h='<h2>Step '+esc(s.step??cur)+' <span class="kbd">'+esc(s.device||'')+' · '+
  (s.t!=null?'+'+Number(s.t).toFixed(2)+'s · ':'')+esc(s.time||'')+'</span></h2>';
 if(s.agent_message)h+='<p class="says"><b>Agent:</b> '+esc(s.agent_message)+'</p>';
 if(a.action==='shell'){h+='<pre class="cmd">$ '+esc(a.command||'')+'</pre>';}
 else h+='<p><b>Action</b></p><pre>'+esc(JSON.stringify(a,null,1))+'</pre>';
 h+='<div class="shots">';
 if(f.before)h+=shot(f.before,'before',s); if(f.after)h+=shot(f.after,'after',s);
 h+='</div>';
 if(r.ok===false)h+='<p class="fail">Error: '+esc(r.error)+'</p>';
 if(r.stdout!==undefined)h+='<p><b>stdout</b></p><pre class="out">'+esc(r.stdout)+'</pre>';
 if(r.stderr)h+='<p><b>stderr</b></p><pre class="err">'+esc(r.stderr)+'</pre>';
 if(r.exit_code!==undefined)h+='<p class="exit'+(r.exit_code===0?'':' fail')+'">exit code '+esc(r.exit_code)+'</p>';
 if(r.text&&!f.after)h+='<pre>'+esc(r.text)+'</pre>';
 if(r.text&&f.after)h+='<details'+(showTree?' open':'')+'><summary>UI tree (t)</summary><pre>'+
  esc(r.text)+'</pre>'+(f.ui_tree?'<a href="'+esc(f.ui_tree)+'">raw XML</a>':'')+'</details>';
 const d=s.durations||{}; h+='<p class="kbd">'+Object.entries(d).map(([k,v])=>esc(k)+' '+esc(v)).join(' · ');
 if(s.usage)h+=' · tokens: '+Object.entries(s.usage).map(([k,v])=>esc(k)+' '+esc(v)).join(', ');
 h+='</p>';
 for(const panel of window.clawrigStepPanels){try{h+=panel(s)||'';}catch(e){console.warn(e);}}
 view.innerHTML=h;
 if(location.hash!=='#step-'+(s.step??cur))history.replaceState(null,'','#step-'+(s.step??cur));}
function openStep(n){const i=byNumber.get(String(n)); if(i!==undefined){show(i);
 document.getElementById('steps').scrollIntoView({block:'start'});}}
document.addEventListener('click',e=>{const a=e.target.closest('[data-step]');
 if(a){e.preventDefault(); openStep(a.dataset.step);}});
function filter(){const q=search.value.trim().toLowerCase(); let first=-1;
 [...list.children].forEach((c,j)=>{const hit=!q||hay[j].includes(q); c.hidden=!hit;
  if(hit&&first<0)first=j;}); return first;}
search.addEventListener('input',filter);
search.addEventListener('keydown',e=>{if(e.key==='Enter'){const i=filter(); if(i>=0)show(i);}
 if(e.key==='Escape'){search.blur();}});
function visibleFrom(i,dir){for(let j=i;j>=0&&j<steps.length;j+=dir)if(!list.children[j].hidden)return j;return cur;}
document.addEventListener('keydown',e=>{
 if(e.target===search)return;
 if(e.key==='ArrowRight'||e.key==='j')show(visibleFrom(cur+1,1));
 else if(e.key==='ArrowLeft'||e.key==='k')show(visibleFrom(cur-1,-1));
 else if(e.key==='Home')show(0); else if(e.key==='End')show(steps.length-1);
 else if(e.key==='t'){showTree=!showTree;show(cur);}
 else if(e.key==='/'){e.preventDefault();search.focus();}});
const m=/^#step-(\d+)$/.exec(location.hash);
show(m&&byNumber.has(m[1])?byNumber.get(m[1]):0);
window.addEventListener('hashchange',()=>{const h=/^#step-(\d+)$/.exec(location.hash);
 if(h&&byNumber.has(h[1]))show(byNumber.get(h[1]));});

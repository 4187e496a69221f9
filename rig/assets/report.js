const data = JSON.parse(document.getElementById('record').textContent);
const steps = data.steps; let cur = 0; let showTree = false;
const nav = document.getElementById('nav'); const view = document.getElementById('step');
function esc(s){return String(s).replace(/[&<>"']/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;',
'"':'&quot;',"'":'&#39;'}[c]));}
function label(s){const a=s.action||{};let t=(a.action||'?');
 if(a.device)t+=' @'+a.device; if(a.x!==undefined&&a.x!==null)t+=' ('+a.x+','+a.y+')';
 if(a.element!==undefined&&a.element!==null)t+=' #'+a.element;
 if(a.command)t+=': '+a.command.slice(0,40); if(a.text)t+=': '+a.text.slice(0,40); return t;}
steps.forEach((s,i)=>{const d=document.createElement('div');
 d.textContent=(s.step??i)+'  '+label(s); if(s.result&&s.result.ok===false)d.className='err';
 d.onclick=()=>show(i); nav.appendChild(d);});
function show(i){if(!steps.length){view.innerHTML='<p>No steps were recorded.</p>';return;}
 cur=Math.max(0,Math.min(steps.length-1,i)); const s=steps[cur];
 [...nav.children].forEach((c,j)=>c.classList.toggle('sel',j===cur));
 nav.children[cur].scrollIntoView({block:'nearest'});
 let h='<h2>Step '+esc(s.step??cur)+' <span class="kbd">'+esc(s.time||'')+'</span></h2>';
 if(s.agent_message)h+='<p><b>Agent:</b> '+esc(s.agent_message)+'</p>';
 h+='<p><b>Action</b></p><pre>'+esc(JSON.stringify(s.action,null,1))+'</pre>';
 const f=s.files||{}; h+='<div class="shots">';
 if(f.before)h+='<figure><img alt="before" src="'+esc(f.before)+'"><figcaption>before</figcaption></figure>';
 if(f.after)h+='<figure><img alt="after" src="'+esc(f.after)+'"><figcaption>after</figcaption></figure>';
 h+='</div>'; const r=s.result||{};
 if(r.ok===false)h+='<p class="fail">Error: '+esc(r.error)+'</p>';
 if(r.stdout!==undefined)h+='<p><b>stdout</b></p><pre>'+esc(r.stdout)+'</pre>';
 if(r.stderr)h+='<p><b>stderr</b></p><pre>'+esc(r.stderr)+'</pre>';
 if(r.exit_code!==undefined)h+='<p>exit code '+esc(r.exit_code)+'</p>';
 if(r.text&&!f.after)h+='<pre>'+esc(r.text)+'</pre>';
 if(r.text&&f.after)h+='<details'+(showTree?' open':'')+'><summary>UI tree (t)</summary><pre>'+
  esc(r.text)+'</pre>'+(s.ui_tree_text?'<details><summary>raw XML</summary><pre>'+
  esc(s.ui_tree_text)+'</pre></details>':'')+'</details>';
 if(s.usage)h+='<p class="kbd">tokens: '+esc(JSON.stringify(s.usage))+'</p>';
 h+='<p class="kbd">'+esc(JSON.stringify(s.durations||{}))+'</p>';
 view.innerHTML=h;}
document.addEventListener('keydown',e=>{
 if(e.key==='ArrowRight'||e.key==='j')show(cur+1);
 else if(e.key==='ArrowLeft'||e.key==='k')show(cur-1);
 else if(e.key==='Home')show(0); else if(e.key==='End')show(steps.length-1);
 else if(e.key==='t'){showTree=!showTree;show(cur);}});
show(0);

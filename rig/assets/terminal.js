// The agent's terminal in the report: a small asciicast v2 player (a VT/xterm subset:
// cursor moves, erases, scroll regions, insert/delete, colours, the alternate screen,
// line drawing), self-contained so the report works from disk. Each step that used the
// terminal shows the screen as the agent saw it; "replay" plays that step's part.
const ClawrigTerm = (() => {
  const PALETTE = ['#000','#c33','#3a3','#c90','#36c','#c3c','#3aa','#ccc',
    '#666','#f55','#5d5','#fd5','#58f','#f5f','#5ff','#fff'];
  const DRAW = {j:'┘',k:'┐',l:'┌',m:'└',n:'┼',q:'─',t:'├',u:'┤',v:'┴',w:'┬',x:'│',a:'▒',
    '`':'◆',f:'°',g:'±',o:'⎺',s:'⎽',y:'≤',z:'≥','~':'·'};
  function wide(cp){return (cp>=0x1100&&cp<=0x115f)||(cp>=0x2e80&&cp<=0xa4cf&&cp!==0x303f)||
    (cp>=0xac00&&cp<=0xd7a3)||(cp>=0xf900&&cp<=0xfaff)||(cp>=0xfe30&&cp<=0xfe4f)||
    (cp>=0xff00&&cp<=0xff60)||(cp>=0xffe0&&cp<=0xffe6)||(cp>=0x1f300&&cp<=0x1faff)||
    (cp>=0x20000&&cp<=0x3fffd);}
  function colour(n){if(n<16)return PALETTE[n];if(n>=232){const v=8+10*(n-232);
    return 'rgb('+v+','+v+','+v+')';}n-=16;const c=[0,95,135,175,215,255];
    return 'rgb('+c[Math.floor(n/36)]+','+c[Math.floor(n/6)%6]+','+c[n%6]+')';}

  class Screen {
    constructor(cols, rows){this.cols=cols;this.rows=rows;this.reset();}
    reset(){this.main=this.blank();this.grid=this.main;this.alt=null;this.x=0;this.y=0;
      this.top=0;this.bot=this.rows-1;this.attr={};this.saved=null;this.wrap=false;
      this.g=[false,false];this.gl=0;this.state=0;this.buf='';this.cursorOn=true;}
    blank(){const g=[];for(let i=0;i<this.rows;i++)g.push(this.line());return g;}
    line(){const l=[];for(let i=0;i<this.cols;i++)l.push({c:' ',a:this.attr||{}});return l;}
    feed(s){for(const ch of s)this.step(ch);}
    step(ch){const st=this.state;
      if(st===0){const o=ch.codePointAt(0);
        if(o===27){this.state=1;return;}
        if(o<32||o===127){this.control(o);return;}
        this.print(ch);return;}
      if(st===1){this.state=0;
        if(ch==='['){this.state=2;this.buf='';return;}
        if(ch===']'){this.state=3;this.buf='';return;}
        if(ch==='('||ch===')'){this.state=4;this.charsetFor=ch;return;}
        if(ch==='7')this.saved={x:this.x,y:this.y,a:this.attr};
        else if(ch==='8'){if(this.saved){this.x=this.saved.x;this.y=this.saved.y;this.attr=this.saved.a;}}
        else if(ch==='M')this.rindex(); else if(ch==='D')this.index();
        else if(ch==='E'){this.x=0;this.index();} else if(ch==='c')this.reset();
        return;}
      if(st===2){const o=ch.codePointAt(0);
        if(o>=0x40&&o<=0x7e){this.state=0;this.csi(this.buf,ch);}
        else if(o===24||o===26)this.state=0; else this.buf+=ch; return;}
      if(st===3){if(ch==='\x07'){this.state=0;}else if(ch==='\x1b'){this.state=5;}
        else if(this.buf.length<512)this.buf+=ch;return;}
      if(st===4){this.state=0;this.g[this.charsetFor==='('?0:1]=(ch==='0');return;}
      if(st===5){this.state=ch==='\\'?0:3;}}
    control(o){this.wrap=o===8?false:this.wrap;
      if(o===13){this.x=0;this.wrap=false;}
      else if(o===10||o===11||o===12){this.index();this.wrap=false;}
      else if(o===8){if(this.x>0)this.x--;}
      else if(o===9){this.x=Math.min(this.cols-1,(Math.floor(this.x/8)+1)*8);}
      else if(o===14)this.gl=1; else if(o===15)this.gl=0;}
    print(ch){if(this.g[this.gl]&&DRAW[ch])ch=DRAW[ch];const w=wide(ch.codePointAt(0))?2:1;
      if(this.wrap||this.x+w>this.cols){this.x=0;this.index();}
      this.wrap=false;const row=this.grid[this.y];row[this.x]={c:ch,a:this.attr};
      if(w===2&&this.x+1<this.cols)row[this.x+1]={c:'',a:this.attr};
      this.x+=w;if(this.x>=this.cols){this.x=this.cols-1;this.wrap=true;}}
    // As pyte (what the agent was shown) does: outside the scroll region the cursor is
    // pulled back into it.
    index(){if(this.y===this.bot)this.scroll(1);else this.y=Math.min(this.y+1,this.bot);}
    rindex(){if(this.y===this.top)this.scroll(-1);else this.y=Math.max(this.y-1,this.top);}
    scroll(n){for(let i=0;i<Math.abs(n);i++){if(n>0){this.grid.splice(this.top,1);
      this.grid.splice(this.bot,0,this.line());}else{this.grid.splice(this.bot,1);
      this.grid.splice(this.top,0,this.line());}}}
    erase(y,x0,x1){const row=this.grid[y];for(let x=x0;x<x1&&x<this.cols;x++)row[x]={c:' ',a:this.attr};}
    csi(p,f){const priv=p[0]==='?'||p[0]==='>'||p[0]==='='?p[0]:'';if(priv)p=p.slice(1);
      const a=p.split(';').map(v=>parseInt(v,10));const n=(i,d)=>(isNaN(a[i])||a[i]===0)?d:a[i];
      const Y=this.y,X=this.x;if(f!=='m')this.wrap=false;
      switch(f){
      case 'A':this.y=Math.max(this.top,Y-n(0,1));break;
      case 'B':case 'e':this.y=Math.min(this.bot,Y+n(0,1));break;
      case 'C':case 'a':this.x=Math.min(this.cols-1,X+n(0,1));break;
      case 'D':this.x=Math.max(0,X-n(0,1));break;
      case 'E':this.x=0;this.y=Math.min(this.rows-1,Y+n(0,1));break;
      case 'F':this.x=0;this.y=Math.max(0,Y-n(0,1));break;
      case 'G':case '`':this.x=Math.min(this.cols-1,n(0,1)-1);break;
      case 'd':this.y=Math.min(this.rows-1,n(0,1)-1);break;
      case 'H':case 'f':this.y=Math.min(this.rows-1,n(0,1)-1);this.x=Math.min(this.cols-1,n(1,1)-1);break;
      case 'J':{const m=a[0]||0;if(m===0){this.erase(Y,X,this.cols);for(let y=Y+1;y<this.rows;y++)this.erase(y,0,this.cols);}
        else if(m===1){for(let y=0;y<Y;y++)this.erase(y,0,this.cols);this.erase(Y,0,X+1);}
        else if(m===2||m===3){for(let y=0;y<this.rows;y++)this.erase(y,0,this.cols);}break;}
      case 'K':{const m=a[0]||0;if(m===0)this.erase(Y,X,this.cols);else if(m===1)this.erase(Y,0,X+1);
        else this.erase(Y,0,this.cols);break;}
      case 'X':this.erase(Y,X,X+n(0,1));break;
      case 'L':case 'M':if(Y>=this.top&&Y<=this.bot){const k=Math.min(n(0,1),this.bot-Y+1);
        for(let i=0;i<k;i++){if(f==='L'){this.grid.splice(this.bot,1);this.grid.splice(Y,0,this.line());}
          else{this.grid.splice(Y,1);this.grid.splice(this.bot,0,this.line());}}this.x=0;}break;
      case 'P':{const row=this.grid[Y];const k=Math.min(n(0,1),this.cols-X);row.splice(X,k);
        for(let i=0;i<k;i++)row.push({c:' ',a:this.attr});break;}
      case '@':{const row=this.grid[Y];const k=Math.min(n(0,1),this.cols-X);
        for(let i=0;i<k;i++)row.splice(X,0,{c:' ',a:this.attr});row.length=this.cols;break;}
      case 'S':{const s=this.y;this.y=this.bot;for(let i=0;i<n(0,1);i++)this.scroll(1);this.y=s;break;}
      case 'T':for(let i=0;i<n(0,1);i++)this.scroll(-1);break;
      case 'r':if(priv)break;if(!p||p==='0'){this.top=0;this.bot=this.rows-1;break;}
        {const t=Math.max(0,Math.min(n(0,1)-1,this.rows-1)),b=Math.min(this.rows-1,n(1,this.rows)-1);
        if(b-t>=1){this.top=t;this.bot=b;this.x=0;this.y=0;}}break;
      case 's':this.saved={x:X,y:Y,a:this.attr};break;
      case 'u':if(this.saved){this.x=this.saved.x;this.y=this.saved.y;}break;
      case 'm':if(!priv)this.sgr(a);break;
      case 'h':case 'l':if(priv==='?')this.mode(a,f==='h');break;}}
    mode(a,on){for(const m of a){
      if(m===25)this.cursorOn=on;
      else if(m===3){for(let y=0;y<this.rows;y++)this.erase(y,0,this.cols);this.x=0;this.y=0;}
      else if(m===1049||m===1047||m===47){
        if(on&&!this.alt){this.altSaved={x:this.x,y:this.y,a:this.attr};this.alt=this.blank();this.grid=this.alt;}
        else if(!on&&this.alt){this.alt=null;this.grid=this.main;
          if(m===1049&&this.altSaved){this.x=this.altSaved.x;this.y=this.altSaved.y;this.attr=this.altSaved.a;}}}}}
    sgr(a){if(!a.length||(a.length===1&&isNaN(a[0]))){this.attr={};return;}
      let t=Object.assign({},this.attr);
      for(let i=0;i<a.length;i++){const v=isNaN(a[i])?0:a[i];
        if(v===0)t={};else if(v===1)t.b=1;else if(v===4)t.u=1;else if(v===7)t.r=1;
        else if(v===22)delete t.b;else if(v===24)delete t.u;else if(v===27)delete t.r;
        else if(v>=30&&v<=37)t.fg=PALETTE[v-30];else if(v===39)delete t.fg;
        else if(v>=40&&v<=47)t.bg=PALETTE[v-40];else if(v===49)delete t.bg;
        else if(v>=90&&v<=97)t.fg=PALETTE[v-82];else if(v>=100&&v<=107)t.bg=PALETTE[v-92];
        else if(v===38||v===48){const k=v===38?'fg':'bg';
          if(a[i+1]===5){t[k]=colour(a[i+2]||0);i+=2;}
          else if(a[i+1]===2){t[k]='rgb('+(a[i+2]||0)+','+(a[i+3]||0)+','+(a[i+4]||0)+')';i+=4;}}}
      this.attr=t;}
    text(){return this.grid.map(r=>r.map(c=>c.c).join('').replace(/\s+$/,''));}
    html(){const esc=s=>s.replace(/[&<>]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;'}[c]));
      let out='';this.grid.forEach((row,y)=>{let run='',key=null,st='';
        const flush=()=>{if(run)out+=st?'<span style="'+st+'">'+esc(run)+'</span>':esc(run);run='';};
        row.forEach((cell,x)=>{if(cell.c==='')return;const a=cell.a;
          const cur=this.cursorOn&&x===this.x&&y===this.y;
          const k=(a.fg||'')+'|'+(a.bg||'')+'|'+(a.b||'')+(a.u||'')+(a.r||'')+(cur?'c':'');
          if(k!==key){flush();key=k;let fg=a.fg,bg=a.bg;if(a.r||cur){[fg,bg]=[bg||'#111',fg||'#ddd'];}
            st=(fg?'color:'+fg+';':'')+(bg?'background:'+bg+';':'')+(a.b?'font-weight:bold;':'')+
              (a.u?'text-decoration:underline;':'');}
          run+=cell.c;});flush();out+='\n';});return out;}
  }

  const parsed = {};
  function parse(text){const lines=text.split('\n').filter(l=>l.trim());
    const header=JSON.parse(lines[0]);const events=[];
    for(const l of lines.slice(1)){try{events.push(JSON.parse(l));}catch(e){}}
    return {header,events};}
  function cast(data, path){if(!parsed[path]){const t=(data.casts||{})[path];
    if(t===undefined)return null;parsed[path]=parse(t);}return parsed[path];}
  // The screen after every output event up to time t (inclusive).
  function at(c, t){const s=new Screen(c.header.width||80,c.header.height||24);let i=0;
    for(;i<c.events.length&&c.events[i][0]<=t;i++){if(c.events[i][1]==='o')s.feed(c.events[i][2]);}
    return {screen:s,next:i};}
  function finalText(castText){const c=parse(castText);return at(c,Infinity).screen.text();}

  // The step view's panel (report.js calls it with each step it shows): the screen as the
  // agent saw it when the step ended; the buttons work through one delegated listener.
  let timer=null, record=null;
  const escAttr=s=>String(s).replace(/[&<>"']/g,c=>'&#'+c.charCodeAt(0)+';');
  function panel(step){
    if(timer){clearTimeout(timer);timer=null;}
    const t=step.terminal;if(!t||!t.cast)return '';
    if(record===null){const el=document.getElementById('record');
      record=el?JSON.parse(el.textContent):{};}
    const c=cast(record,t.cast);
    if(!c)return '<div class="ct-box">terminal recording '+escAttr(t.cast)+' is missing</div>';
    return '<div class="ct-box" data-cast="'+escAttr(t.cast)+'" data-from="'+t.from+'" data-to="'+
      t.to+'"><div class="ct-bar"><b>terminal</b> <span class="ct-time">'+Number(t.to).toFixed(2)+
      ' s</span> <button class="ct-play">▶ replay this step</button> <button class="ct-end">end'+
      '</button> <select class="ct-speed"><option value="1">1×</option><option value="2" selected>'+
      '2×</option><option value="8">8×</option></select></div><pre class="ct-screen">'+
      at(c,t.to).screen.html()+'</pre></div>';}
  function onClick(e){const b=e.target.closest&&e.target.closest('.ct-play,.ct-end');if(!b)return;
    const box=b.closest('.ct-box'),c=cast(record,box.dataset.cast);if(!c)return;
    const from=parseFloat(box.dataset.from),to=parseFloat(box.dataset.to);
    const pre=box.querySelector('.ct-screen'),clock=box.querySelector('.ct-time');
    const show=(s,time)=>{pre.innerHTML=s.html();clock.textContent=time.toFixed(2)+' s';};
    if(timer){clearTimeout(timer);timer=null;}
    if(b.classList.contains('ct-end')){show(at(c,to).screen,to);return;}
    const st=at(c,from);let i=st.next,now=from;show(st.screen,now);
    const speed=parseFloat(box.querySelector('.ct-speed').value)||1;
    const tick=()=>{if(i>=c.events.length||c.events[i][0]>to){timer=null;return;}
      const ev=c.events[i++];if(ev[1]==='o')st.screen.feed(ev[2]);now=ev[0];show(st.screen,now);
      const gap=i<c.events.length?Math.min(1,Math.max(0,c.events[i][0]-now))/speed:0;
      timer=setTimeout(tick,gap*1000);};
    timer=setTimeout(tick,400);}  // the screen before the step first, then play
  if(typeof window!=='undefined'){
    window.clawrigStepPanels=window.clawrigStepPanels||[];window.clawrigStepPanels.push(panel);
    document.addEventListener('click',onClick);}
  return {Screen, parse, at, finalText, panel};
})();
if(typeof module!=='undefined')module.exports=ClawrigTerm;

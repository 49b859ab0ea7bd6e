import { melPower } from './models/preprocess/mel.js';
// check FFT-based mel against a direct DFT of a sine at one frame
const spec = { sampleRate: 16000, nFft: 400, hop: 160, nMels: 80, fMin: 0, fMax: 8000, frames: 3000 };
const a = new Float32Array(16000*30).map((_, i) => Math.sin(2*Math.PI*1000*i/16000));
let t = Date.now(); const m = melPower(a, spec); console.log('whisper mel ms', Date.now()-t);
let best = 0; for (let k = 0; k < 80; k++) if (m[k*3000+100]! > m[best*3000+100]!) best = k; console.log('peak mel bin', best);
const spec2 = { sampleRate: 48000, nFft: 1024, hop: 480, nMels: 64, fMin: 50, fMax: 14000, frames: 1001 };
t = Date.now(); melPower(new Float32Array(480000), spec2); console.log('clap mel ms', Date.now()-t);
// compare one frame against a direct DFT
const x = new Float32Array(400*3).map(() => Math.random()-0.5);
const s3 = { sampleRate: 16000, nFft: 400, hop: 400, nMels: 80, fMin: 0, fMax: 8000, frames: 1 };
const mm = melPower(x, s3);
import { melFilters } from './models/preprocess/mel.js';
const f = melFilters(s3); const half=200; const padded = new Float64Array(400);
for (let i=0;i<400;i++){ const j=i-half; padded[i] = j>=0? x[j]! : x[-j]!; }
const w = (i:number)=>0.5-0.5*Math.cos(2*Math.PI*i/400);
const pw = new Float64Array(201); for (let k=0;k<201;k++){let r=0,im=0;for(let t2=0;t2<400;t2++){r+=padded[t2]!*w(t2)*Math.cos(2*Math.PI*k*t2/400);im-=padded[t2]!*w(t2)*Math.sin(2*Math.PI*k*t2/400);}pw[k]=r*r+im*im;}
let maxd=0; for (let m2=0;m2<80;m2++){let s=0;for(let k=0;k<201;k++)s+=f[m2]![k]!*pw[k]!; maxd=Math.max(maxd, Math.abs(s-mm[m2]!)/(Math.abs(s)+1e-9));}
console.log('max rel diff vs direct DFT', maxd);

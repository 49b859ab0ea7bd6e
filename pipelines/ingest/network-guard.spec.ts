import { describe, expect, it } from 'vitest';
import { allowedHostProblem } from '../../config/allowed-hosts.js';
import { checkTarget, HostUnresolvedError, targetOf, type NetworkPolicy } from './network-guard.js';
import { SourceError } from '../records/source.js';
import { resolveSource, type SourceOptions } from './source.js';

const options: SourceOptions = {
  allowedProtocols: ['file', 'http', 'https', 'tls', 'tcp', 'udp', 'rtp', 'rtsp', 'hls', 'crypto', 'data'],
  fileRoots: ['/media'],
  timeoutMs: 5_000,
  cwd: '/media',
  files: { realpath: (p) => p, stat: () => ({ size: 1, isFile: true }) },
};
const local = new Set(['127.0.0.1', '::1', '192.168.1.10']);
const open: NetworkPolicy = {
  own: [
    { what: "engram's own API", addresses: 'this-machine', port: 7077 },
    { what: "engram's Redis", addresses: ['10.0.0.9'], port: 6379 },
  ],
  allowedHosts: [],
};

/** The message for a source that resolves to `addresses`, or undefined when it is allowed. */
function refusal(source: string, addresses: string[] | undefined, policy: NetworkPolicy = open): string | undefined {
  const spec = resolveSource(source, options);
  const target = targetOf(spec);
  if (!target) throw new Error(`${source} has no network target`);
  try {
    checkTarget(spec.display, target, addresses, policy, local);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(SourceError);
    return (error as Error).message;
  }
}

describe('network sources and engram itself', () => {
  it('refuses the own API port on any address of this machine, however it is spelled', () => {
    expect(refusal('http://127.0.0.1:7077/api/streams', ['127.0.0.1'])).toMatch(/points at engram's own API, port 7077 on 127\.0\.0\.1: engram does not ingest from itself/);
    expect(refusal('http://localhost:7077/', ['::1', '127.0.0.1'])).toMatch(/localhost resolves to ::1/);
    expect(refusal('tcp://0.0.0.0:7077', ['0.0.0.0'])).toMatch(/own API/);
    expect(refusal('http://[::ffff:127.0.0.1]:7077/', undefined)).toMatch(/own API/);
    expect(refusal('http://192.168.1.10:7077/', ['192.168.1.10'])).toMatch(/own API/);
    expect(refusal('http://rebind.example:7077/', ['127.0.0.2'])).toMatch(/rebind\.example resolves to 127\.0\.0\.2/);
  });

  it('refuses Redis at its resolved address and port, the default port included', () => {
    expect(refusal('tcp://10.0.0.9:6379', ['10.0.0.9'])).toMatch(/points at engram's Redis, port 6379/);
    expect(refusal('http://redis.internal:6379/', ['10.0.0.9'])).toMatch(/engram's Redis/);
  });

  it('leaves local restreamers, LAN cameras and other ports alone', () => {
    expect(refusal('rtsp://127.0.0.1:8554/cam', ['127.0.0.1'])).toBeUndefined();
    expect(refusal('http://127.0.0.1/', ['127.0.0.1'])).toBeUndefined(); // port 80
    expect(refusal('rtsp://cam.lan/stream1', ['192.168.1.64'])).toBeUndefined();
    expect(refusal('tcp://10.0.0.8:6379', ['10.0.0.8'])).toBeUndefined(); // another machine's Redis port
    expect(refusal('http://unresolvable.invalid:7077/', undefined)).toBeUndefined(); // ffmpeg cannot reach it either; checked again on reconnect
  });

  it('restricts sources to ingest.allowedHosts when it is set', () => {
    const strict: NetworkPolicy = { ...open, allowedHosts: ['192.168.1.0/24', 'cams.example.org', '*.cdn.example', 'fd00::/8'] };
    expect(refusal('rtsp://192.168.1.64/s', ['192.168.1.64'], strict)).toBeUndefined();
    expect(refusal('rtsp://door.lan/s', ['192.168.1.70'], strict)).toBeUndefined();
    expect(refusal('https://cams.example.org/a.m3u8', ['203.0.113.5'], strict)).toBeUndefined();
    expect(refusal('https://edge1.cdn.example/a.m3u8', ['203.0.113.6'], strict)).toBeUndefined();
    expect(refusal('rtsp://[fd00::5]/s', ['fd00::5'], strict)).toBeUndefined();
    expect(refusal('rtsp://127.0.0.1:8554/cam', ['127.0.0.1'], strict)).toBe('source host "127.0.0.1" is not in ingest.allowedHosts (192.168.1.0/24, cams.example.org, *.cdn.example, fd00::/8)');
    expect(refusal('rtsp://mixed.lan/s', ['192.168.1.5', '10.0.0.1'], strict)).toMatch(/"mixed\.lan" \(it resolves to 10\.0\.0\.1\) is not in ingest\.allowedHosts/);
    expect(refusal('rtsp://nowhere.invalid/s', undefined, strict)).toMatch(/could not be resolved, so it cannot be checked against ingest\.allowedHosts/);
    // ... which, unlike the other refusals, a later attempt may pass.
    const spec = resolveSource('rtsp://nowhere.invalid/s', options);
    expect(() => checkTarget(spec.display, targetOf(spec)!, undefined, strict, local)).toThrow(HostUnresolvedError);
    expect(() => checkTarget(spec.display, targetOf(spec)!, ['10.0.0.1'], strict, local)).not.toThrow(HostUnresolvedError);
    // The own endpoints stay refused even when listed.
    expect(refusal('http://127.0.0.1:7077/', ['127.0.0.1'], { ...open, allowedHosts: ['127.0.0.0/8'] })).toMatch(/own API/);
  });

  it('has no target for files, devices and stdin', () => {
    expect(targetOf(resolveSource('/media/a.mp4', options))).toBeUndefined();
    expect(targetOf(resolveSource('v4l2:/dev/video0', options))).toBeUndefined();
  });

  it('checks the form of allowedHosts entries', () => {
    for (const ok of ['10.0.0.0/8', '192.168.1.5', 'cam.lan', '*.example.org', '::1', 'fd00::/8', 'localhost']) expect(allowedHostProblem(ok), ok).toBeUndefined();
    expect(allowedHostProblem('10.0.0.0/33')).toMatch(/not a prefix length for an IPv4 network/);
    expect(allowedHostProblem('cam.lan/24')).toMatch(/not an IP address/);
    expect(allowedHostProblem('http://cam.lan')).toMatch(/expected a host name/);
    expect(allowedHostProblem('*')).toMatch(/expected a host name/);
  });
});

import { describe, expect, it } from 'vitest';
import { planTranscode } from '../../../core/renditions.ts';
import { buildTranscodeCommand, commandArgv } from './command.ts';

const plan = (hasAudio: boolean, height = 1080) =>
  planTranscode({ width: (height * 16) / 9, height, rotation: 0, sampleAspectRatio: 1, duration: 10, startTime: 0, hasAudio });

describe('buildTranscodeCommand', () => {
  it('decodes once: one input, one split feeding every output', () => {
    const cmd = buildTranscodeCommand(plan(true), { input: '/tmp/in', outDir: '/tmp/out', preset: 'veryfast', threads: 0 });
    const argv = commandArgv(cmd);
    expect(argv.filter((a) => a === '-i')).toHaveLength(1);
    expect(cmd.complexFilter).toMatch(/^\[0:v:0\]split=3\[s0\]\[s1\]\[st\]/);
    expect(cmd.outputs.map((o) => o.path)).toEqual(['/tmp/out/360p.mp4', '/tmp/out/720p.mp4', '/tmp/out/thumbnail.jpg']);
    expect(cmd.complexFilter).toContain('scale=640:360');
    expect(cmd.complexFilter).toContain('scale=1280:720');
  });

  it('writes H.264 yuv420p + AAC with faststart', () => {
    const cmd = buildTranscodeCommand(plan(true), { input: '/in', outDir: '/out', preset: 'fast', threads: 2 });
    const mp4 = cmd.outputs[0]!.options.join(' ');
    expect(mp4).toContain('-c:v libx264 -preset fast');
    expect(mp4).toContain('-pix_fmt yuv420p');
    expect(mp4).toContain('-c:a aac');
    expect(mp4).toContain('-movflags +faststart');
    expect(mp4).toContain('-threads 2');
  });

  it('handles sources without audio', () => {
    const cmd = buildTranscodeCommand(plan(false), { input: '/in', outDir: '/out', preset: 'fast', threads: 0 });
    expect(cmd.outputs[0]!.options).toContain('-an');
    expect(cmd.outputs[0]!.options.join(' ')).not.toContain('0:a');
  });

  it('only splits as many ways as there are outputs', () => {
    const cmd = buildTranscodeCommand(plan(true, 480), { input: '/in', outDir: '/out', preset: 'fast', threads: 0 });
    expect(cmd.complexFilter).toMatch(/split=2\[s0\]\[st\]/);
    expect(cmd.outputs).toHaveLength(2);
  });

  it('reads the upload only as a local file with an allow-listed demuxer', () => {
    const argv = commandArgv(buildTranscodeCommand(plan(true), { input: '/tmp/in', outDir: '/out', preset: 'fast', threads: 0 }));
    expect(argv.slice(argv.indexOf('-protocol_whitelist'), argv.indexOf('-protocol_whitelist') + 2)).toEqual(['-protocol_whitelist', 'file']);
    const formats = argv[argv.indexOf('-format_whitelist') + 1]!.split(',');
    expect(formats).toContain('mov');
    expect(formats).not.toContain('hls');
    expect(formats).not.toContain('concat');
    expect(argv[argv.indexOf('-i') + 1]).toBe('file:/tmp/in');
  });

  it('runs the source chain once, before the split, on the chosen streams; tags BT.709; standard audio rate', () => {
    const cmd = buildTranscodeCommand(plan(true), {
      input: '/in',
      outDir: '/out',
      preset: 'fast',
      threads: 0,
      video: { index: 2, filters: ['bwdif=mode=send_frame:parity=auto:deint=all', 'fps=30000/1001'], inputMatrix: 'bt709' },
      audio: { index: 4, sampleRate: 8000 },
    });
    expect(cmd.complexFilter).toMatch(/^\[0:2\]bwdif=[^;]*,fps=30000\/1001,split=3/);
    expect(cmd.complexFilter).toContain('in_color_matrix=bt709:out_color_matrix=bt709:out_range=tv');
    const mp4 = cmd.outputs[0]!.options.join(' ');
    expect(mp4).toContain('-map 0:4');
    expect(mp4).toContain('-ar 48000');
    expect(mp4).toContain('-ac 2');
    expect(mp4).toContain('-colorspace bt709 -color_primaries bt709 -color_trc bt709 -color_range tv');
  });

  it('refuses decoders reelay does not accept', () => {
    const argv = commandArgv(buildTranscodeCommand(plan(true), { input: '/tmp/in', outDir: '/out', preset: 'fast', threads: 0 }));
    const decoders = argv[argv.indexOf('-codec_whitelist') + 1]!.split(',');
    expect(decoders).toEqual(expect.arrayContaining(['h264', 'hevc', 'vp9', 'aac']));
    expect(decoders).not.toContain('libopenjpeg');
  });
});

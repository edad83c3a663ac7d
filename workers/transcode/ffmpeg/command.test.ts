import { describe, expect, it } from 'vitest';
import { planTranscode } from '../renditions.ts';
import { buildTranscodeCommand, commandArgv } from './command.ts';

const plan = (hasAudio: boolean, height = 1080) =>
  planTranscode({ width: (height * 16) / 9, height, rotation: 0, sampleAspectRatio: 1, duration: 10, startTime: 0, hasAudio });

describe('buildTranscodeCommand', () => {
  it('decodes once: one input, one split feeding every output', () => {
    const cmd = buildTranscodeCommand(plan(true), { input: '/tmp/in', outDir: '/tmp/out', preset: 'veryfast', threads: 0 });
    const argv = commandArgv(cmd);
    expect(argv.filter((a) => a === '-i')).toHaveLength(1);
    expect(cmd.complexFilter).toMatch(/^\[0:v:0\]split=4\[s0\]\[s1\]\[st\]\[sb\]/);
    expect(cmd.outputs.map((o) => o.path)).toEqual([
      '[f=mp4:movflags=+faststart]/tmp/out/360p.mp4|[f=hls:hls_time=1:hls_playlist_type=event:hls_flags=temp_file:hls_segment_type=fmp4:hls_fmp4_init_filename=init.mp4:' +
        'hls_segment_filename=/tmp/out/hls/360p/seg_%05d.m4s]/tmp/out/hls/360p/index.m3u8',
      '[f=mp4:movflags=+faststart]/tmp/out/720p.mp4|[f=hls:hls_time=1:hls_playlist_type=event:hls_flags=temp_file:hls_segment_type=fmp4:hls_fmp4_init_filename=init.mp4:' +
        'hls_segment_filename=/tmp/out/hls/720p/seg_%05d.m4s]/tmp/out/hls/720p/index.m3u8',
      '/tmp/out/thumbnail.jpg',
      '/tmp/out/storyboard/sprite.jpg',
    ]);
    expect(cmd.complexFilter).toContain('scale=640:360');
    expect(cmd.complexFilter).toContain('scale=1280:720');
  });

  it('writes H.264 yuv420p + AAC once per rendition, teed to the faststart MP4 and the HLS variant', () => {
    const cmd = buildTranscodeCommand(plan(true), { input: '/in', outDir: '/out', preset: 'fast', threads: 2 });
    const mp4 = cmd.outputs[0]!.options.join(' ');
    expect(mp4).toContain('-c:v libx264 -preset fast');
    expect(mp4).toContain('-pix_fmt yuv420p');
    expect(mp4).toContain('-c:a aac');
    expect(mp4).toContain('-threads 2');
    expect(mp4).toMatch(/-f tee$/);
    expect(cmd.outputs[0]!.path).toContain('[f=mp4:movflags=+faststart]');
  });

  it('aligns keyframes across renditions: 0, 1, 2 s then every 4 s by timestamp, no scene cuts, closed GOPs', () => {
    const cmd = buildTranscodeCommand(plan(true), { input: '/in', outDir: '/out', preset: 'fast', threads: 0 });
    for (const o of cmd.outputs.slice(0, 2)) {
      const opts = o.options.join(' ');
      expect(opts).toContain('-force_key_frames expr:gte(t,if(lt(n_forced,3),n_forced,4*(n_forced-2)))');
      expect(opts).toContain('-sc_threshold 0');
      expect(opts).toContain('-flags +cgop+global_header');
    }
  });

  it('REELAY_FIRST_SEGMENT_SECONDS: 2 gives keyframes at 0, 2 then every 4 s; 4 the plain 4 s grid', () => {
    const two = buildTranscodeCommand(plan(true), { input: '/in', outDir: '/out', preset: 'fast', threads: 0, firstSegmentSeconds: 2 });
    expect(two.outputs[0]!.options.join(' ')).toContain('-force_key_frames expr:gte(t,if(lt(n_forced,2),2*n_forced,4*(n_forced-1)))');
    expect(two.outputs[0]!.path).toContain('hls_time=2:');
    const four = buildTranscodeCommand(plan(true), { input: '/in', outDir: '/out', preset: 'fast', threads: 0, firstSegmentSeconds: 4 });
    expect(four.outputs[1]!.options.join(' ')).toContain('-force_key_frames expr:gte(t,n_forced*4)');
    expect(four.outputs[1]!.path).toContain('hls_time=4:hls_playlist_type=event:hls_flags=temp_file:');
  });

  it('tiles the storyboard from its own branch of the one decode', () => {
    const cmd = buildTranscodeCommand(plan(true), { input: '/in', outDir: '/out', preset: 'fast', threads: 0 });
    expect(cmd.complexFilter).toContain(
      '[sb]fps=1/1:round=down:eof_action=pass,tpad=stop=-1:stop_mode=clone,trim=end_frame=10,scale=160:90:flags=bilinear,setsar=1,' +
        'tile=10x1:nb_frames=10:overlap=9:init_padding=9,format=yuvj420p[sbt]',
    );
    // Every tile overwrites the sprite: the last picture is the whole grid, and ffmpeg reports progress from the start.
    expect(cmd.outputs.at(-1)!.options).toEqual(['-map', '[sbt]', '-q:v', '4', '-an', '-f', 'image2', '-update', '1']);
  });

  it('without playback outputs, writes the MP4s and thumbnail alone (the benchmark baseline)', () => {
    const cmd = buildTranscodeCommand(plan(true), { input: '/in', outDir: '/out', preset: 'fast', threads: 0, playback: false });
    expect(cmd.complexFilter).toMatch(/^\[0:v:0\]split=3\[s0\]\[s1\]\[st\];/);
    expect(cmd.outputs.map((o) => o.path)).toEqual(['/out/360p.mp4', '/out/720p.mp4', '/out/thumbnail.jpg']);
    expect(cmd.outputs[0]!.options.join(' ')).toMatch(/-movflags \+faststart -f mp4$/);
    expect(cmd.outputs[0]!.options).not.toContain('-force_key_frames');
  });

  it('escapes tee separators in paths', () => {
    const cmd = buildTranscodeCommand(plan(false), { input: '/in', outDir: '/o:u|t', preset: 'fast', threads: 0 });
    expect(cmd.outputs[0]!.path).toContain(']/o\\:u\\|t/360p.mp4|[');
  });

  it('handles sources without audio', () => {
    const cmd = buildTranscodeCommand(plan(false), { input: '/in', outDir: '/out', preset: 'fast', threads: 0 });
    expect(cmd.outputs[0]!.options).toContain('-an');
    expect(cmd.outputs[0]!.options.join(' ')).not.toContain('0:a');
  });

  it('only splits as many ways as there are outputs', () => {
    const cmd = buildTranscodeCommand(plan(true, 480), { input: '/in', outDir: '/out', preset: 'fast', threads: 0 });
    expect(cmd.complexFilter).toMatch(/split=3\[s0\]\[st\]\[sb\]/);
    expect(cmd.outputs).toHaveLength(3);
  });

  it('reads the upload only as a local file with an allow-listed demuxer', () => {
    const argv = commandArgv(buildTranscodeCommand(plan(true), { input: '/tmp/in', outDir: '/out', preset: 'fast', threads: 0 }));
    expect(argv.slice(argv.indexOf('-protocol_whitelist'), argv.indexOf('-protocol_whitelist') + 2)).toEqual([
      '-protocol_whitelist',
      'file',
    ]);
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
    expect(cmd.complexFilter).toMatch(/^\[0:2\]bwdif=[^;]*,fps=30000\/1001,split=4/);
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

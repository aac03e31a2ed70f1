import sharp from 'sharp';

/**
 * The emulator's video when ffmpeg is missing: a real H.264 MP4 of the first frame, at the
 * render size and the asked length, built here without any encoder. The picture does not move
 * (motion needs ffmpeg), but shape, size, length and frame rate are those of the real render,
 * and ffprobe, browsers and Beem's own MP4 reader all read it as the video it claims to be.
 *
 * How: H.264 Constrained Baseline, one IDR picture whose macroblocks are all I_PCM (raw 8-bit
 * YUV 4:2:0 samples, no prediction, no transform: nothing to get wrong), followed by P pictures
 * that skip every macroblock (a handful of bytes each, "same as the previous frame"). The MP4
 * around it is the plain ISO BMFF layout ffmpeg writes with `+faststart`: ftyp, moov, mdat.
 */

export interface StillClipJob {
  /** Image bytes (any format sharp reads) or null for a plain slate background. */
  image: Buffer | null;
  width: number;
  height: number;
  fps: number;
  durationSec: number;
}

/** Slate (#1e293b), as the ffmpeg render uses for text-only templates. */
const BACKGROUND = { r: 0x1e, g: 0x29, b: 0x3b };

class BitWriter {
  private bytes: number[] = [];
  private current = 0;
  private used = 0;

  bit(value: number): void {
    this.current = (this.current << 1) | (value & 1);
    this.used += 1;
    if (this.used === 8) {
      this.bytes.push(this.current);
      this.current = 0;
      this.used = 0;
    }
  }

  bits(value: number, count: number): void {
    for (let i = count - 1; i >= 0; i--) this.bit((value >>> i) & 1);
  }

  /** Exp-Golomb, unsigned. */
  ue(value: number): void {
    const code = value + 1;
    const length = Math.floor(Math.log2(code));
    this.bits(0, length);
    this.bits(code, length + 1);
  }

  se(value: number): void {
    this.ue(value <= 0 ? -2 * value : 2 * value - 1);
  }

  aligned(): boolean {
    return this.used === 0;
  }

  alignZero(): void {
    while (this.used !== 0) this.bit(0);
  }

  /** Whole bytes, written straight (PCM samples); only when aligned. */
  raw(data: Uint8Array): void {
    for (const byte of data) this.bytes.push(byte);
  }

  /** rbsp_trailing_bits: a stop bit, then zeros to the byte boundary. */
  finish(): Buffer {
    this.bit(1);
    this.alignZero();
    return Buffer.from(this.bytes);
  }
}

/** A NAL unit's payload with emulation prevention (00 00 0x → 00 00 03 0x for x ≤ 3). */
function nal(type: number, refIdc: number, rbsp: Buffer): Buffer {
  const out: number[] = [(refIdc << 5) | type];
  let zeros = 0;
  for (const byte of rbsp) {
    if (zeros >= 2 && byte <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(byte);
    zeros = byte === 0 ? zeros + 1 : 0;
  }
  return Buffer.from(out);
}

const LOG2_MAX_FRAME_NUM = 16;

function sequenceParameterSet(mbWidth: number, mbHeight: number, width: number, height: number): Buffer {
  const w = new BitWriter();
  w.bits(66, 8); // profile_idc: Baseline
  w.bits(0b11000000, 8); // constraint_set0 and set1: Constrained Baseline
  w.bits(40, 8); // level_idc 4.0
  w.ue(0); // seq_parameter_set_id
  w.ue(LOG2_MAX_FRAME_NUM - 4);
  w.ue(2); // pic_order_cnt_type 2: output order is decoding order
  w.ue(1); // max_num_ref_frames
  w.bit(0); // gaps_in_frame_num_value_allowed_flag
  w.ue(mbWidth - 1);
  w.ue(mbHeight - 1);
  w.bit(1); // frame_mbs_only_flag
  w.bit(1); // direct_8x8_inference_flag
  const cropRight = (mbWidth * 16 - width) / 2;
  const cropBottom = (mbHeight * 16 - height) / 2;
  const crop = cropRight > 0 || cropBottom > 0;
  w.bit(crop ? 1 : 0);
  if (crop) {
    w.ue(0);
    w.ue(cropRight);
    w.ue(0);
    w.ue(cropBottom);
  }
  w.bit(0); // vui_parameters_present_flag
  return nal(7, 3, w.finish());
}

function pictureParameterSet(): Buffer {
  const w = new BitWriter();
  w.ue(0); // pic_parameter_set_id
  w.ue(0); // seq_parameter_set_id
  w.bit(0); // entropy_coding_mode_flag: CAVLC
  w.bit(0); // bottom_field_pic_order_in_frame_present_flag
  w.ue(0); // num_slice_groups_minus1
  w.ue(0); // num_ref_idx_l0_default_active_minus1
  w.ue(0); // num_ref_idx_l1_default_active_minus1
  w.bit(0); // weighted_pred_flag
  w.bits(0, 2); // weighted_bipred_idc
  w.se(0); // pic_init_qp_minus26
  w.se(0); // pic_init_qs_minus26
  w.se(0); // chroma_qp_index_offset
  w.bit(1); // deblocking_filter_control_present_flag
  w.bit(0); // constrained_intra_pred_flag
  w.bit(0); // redundant_pic_cnt_present_flag
  return nal(8, 3, w.finish());
}

/** The IDR picture: every macroblock I_PCM, its samples taken from the frame. */
function idrSlice(yuv: { y: Uint8Array; u: Uint8Array; v: Uint8Array; stride: number; chromaStride: number }, mbWidth: number, mbHeight: number): Buffer {
  const w = new BitWriter();
  w.ue(0); // first_mb_in_slice
  w.ue(7); // slice_type: I (all slices)
  w.ue(0); // pic_parameter_set_id
  w.bits(0, LOG2_MAX_FRAME_NUM); // frame_num
  w.ue(0); // idr_pic_id
  w.bit(0); // no_output_of_prior_pics_flag
  w.bit(0); // long_term_reference_flag
  w.se(0); // slice_qp_delta
  w.ue(1); // disable_deblocking_filter_idc: off
  const luma = new Uint8Array(256);
  const chroma = new Uint8Array(128);
  for (let my = 0; my < mbHeight; my++) {
    for (let mx = 0; mx < mbWidth; mx++) {
      w.ue(25); // mb_type I_PCM
      w.alignZero(); // pcm_alignment_zero_bit
      for (let row = 0; row < 16; row++) luma.set(yuv.y.subarray((my * 16 + row) * yuv.stride + mx * 16, (my * 16 + row) * yuv.stride + mx * 16 + 16), row * 16);
      for (let row = 0; row < 8; row++) {
        const at = (my * 8 + row) * yuv.chromaStride + mx * 8;
        chroma.set(yuv.u.subarray(at, at + 8), row * 8);
        chroma.set(yuv.v.subarray(at, at + 8), 64 + row * 8);
      }
      w.raw(luma);
      w.raw(chroma);
    }
  }
  return nal(5, 3, w.finish());
}

/** A P picture that repeats the previous one: every macroblock skipped. */
function skipSlice(frameNum: number, macroblocks: number): Buffer {
  const w = new BitWriter();
  w.ue(0); // first_mb_in_slice
  w.ue(5); // slice_type: P (all slices)
  w.ue(0); // pic_parameter_set_id
  w.bits(frameNum % (1 << LOG2_MAX_FRAME_NUM), LOG2_MAX_FRAME_NUM);
  w.bit(0); // num_ref_idx_active_override_flag
  w.bit(0); // ref_pic_list_modification_flag_l0
  w.bit(0); // adaptive_ref_pic_marking_mode_flag: sliding window
  w.se(0); // slice_qp_delta
  w.ue(1); // disable_deblocking_filter_idc
  w.ue(macroblocks); // mb_skip_run: the whole picture
  return nal(1, 2, w.finish());
}

/** The frame as 8-bit limited-range BT.601 YUV 4:2:0, padded to whole macroblocks by repeating edges. */
async function frameYuv(job: StillClipJob, mbWidth: number, mbHeight: number) {
  const picture = job.image
    ? sharp(job.image).rotate().resize(job.width, job.height, { fit: 'cover' })
    : sharp({ create: { width: job.width, height: job.height, channels: 3, background: BACKGROUND } });
  const rgb = await picture.removeAlpha().extend({ right: mbWidth * 16 - job.width, bottom: mbHeight * 16 - job.height, extendWith: 'copy' }).raw().toBuffer();
  const stride = mbWidth * 16;
  const rows = mbHeight * 16;
  const chromaStride = stride / 2;
  const y = new Uint8Array(stride * rows);
  const u = new Uint8Array(chromaStride * (rows / 2));
  const v = new Uint8Array(chromaStride * (rows / 2));
  const clamp = (value: number) => Math.min(240, Math.max(16, Math.round(value)));
  for (let i = 0; i < stride * rows; i++) {
    const r = rgb[i * 3]!;
    const g = rgb[i * 3 + 1]!;
    const b = rgb[i * 3 + 2]!;
    y[i] = Math.min(235, clamp(16 + 0.257 * r + 0.504 * g + 0.098 * b));
  }
  for (let cy = 0; cy < rows / 2; cy++) {
    for (let cx = 0; cx < chromaStride; cx++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) {
        const at = ((cy * 2 + dy) * stride + cx * 2 + dx) * 3;
        r += rgb[at]!;
        g += rgb[at + 1]!;
        b += rgb[at + 2]!;
      }
      r /= 4;
      g /= 4;
      b /= 4;
      u[cy * chromaStride + cx] = clamp(128 - 0.148 * r - 0.291 * g + 0.439 * b);
      v[cy * chromaStride + cx] = clamp(128 + 0.439 * r - 0.368 * g - 0.071 * b);
    }
  }
  return { y, u, v, stride, chromaStride };
}

// ---- ISO BMFF --------------------------------------------------------------------------

function box(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length, 0);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, body]);
}

function fullBox(type: string, version: number, flags: number, ...parts: Buffer[]): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(((version & 0xff) << 24) | (flags & 0xffffff), 0);
  return box(type, head, ...parts);
}

const u32 = (...values: number[]) => {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => b.writeUInt32BE(value >>> 0, i * 4));
  return b;
};
const u16 = (...values: number[]) => {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((value, i) => b.writeUInt16BE(value & 0xffff, i * 2));
  return b;
};
const UNITY_MATRIX = u32(0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000);

function mp4(samples: Buffer[], sps: Buffer, pps: Buffer, job: StillClipJob): Buffer {
  const timescale = job.fps * 512;
  const frameTicks = 512;
  const mediaDuration = samples.length * frameTicks;
  const movieDuration = Math.round((samples.length / job.fps) * 1000);
  const avcC = box(
    'avcC',
    Buffer.from([1, sps[1]!, sps[2]!, sps[3]!, 0xff, 0xe1]),
    u16(sps.length),
    sps,
    Buffer.from([1]),
    u16(pps.length),
    pps,
  );
  const compressor = Buffer.alloc(32);
  const avc1 = box(
    'avc1',
    Buffer.alloc(6), // reserved
    u16(1), // data_reference_index
    Buffer.alloc(16), // pre_defined, reserved
    u16(job.width, job.height),
    u32(0x00480000, 0x00480000, 0), // 72 dpi, reserved
    u16(1), // frame_count
    compressor,
    u16(0x0018, 0xffff), // depth, pre_defined -1
    avcC,
  );
  const sampleSizes = samples.map((sample) => sample.length);
  const stbl = (chunkOffset: number) =>
    box(
      'stbl',
      fullBox('stsd', 0, 0, u32(1), avc1),
      fullBox('stts', 0, 0, u32(1, samples.length, frameTicks)),
      fullBox('stss', 0, 0, u32(1, 1)),
      fullBox('stsc', 0, 0, u32(1, 1, samples.length, 1)),
      fullBox('stsz', 0, 0, u32(0, samples.length, ...sampleSizes)),
      fullBox('stco', 0, 0, u32(1, chunkOffset)),
    );
  const moov = (chunkOffset: number) =>
    box(
      'moov',
      fullBox('mvhd', 0, 0, u32(0, 0, 1000, movieDuration, 0x00010000), u16(0x0100, 0), u32(0, 0), UNITY_MATRIX, Buffer.alloc(24), u32(2)),
      box(
        'trak',
        fullBox('tkhd', 0, 3, u32(0, 0, 1, 0, movieDuration, 0, 0), u16(0, 0, 0, 0), UNITY_MATRIX, u32(job.width * 65536, job.height * 65536)),
        box(
          'mdia',
          fullBox('mdhd', 0, 0, u32(0, 0, timescale, mediaDuration), u16(0x55c4, 0)),
          fullBox('hdlr', 0, 0, u32(0), Buffer.from('vide', 'latin1'), Buffer.alloc(12), Buffer.from('VideoHandler\0', 'latin1')),
          box(
            'minf',
            fullBox('vmhd', 0, 1, u16(0, 0, 0, 0)),
            box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1))),
            stbl(chunkOffset),
          ),
        ),
      ),
    );
  const ftyp = box('ftyp', Buffer.from('isom', 'latin1'), u32(512), Buffer.from('isomiso2avc1mp41', 'latin1'));
  const mdatBody = Buffer.concat(samples);
  // The chunk offset depends on moov's size, which does not depend on the offset's value.
  const offset = ftyp.length + moov(0).length + 8;
  return Buffer.concat([ftyp, moov(offset), box('mdat', mdatBody)]);
}

/** The clip's bytes: a still of the first frame, `durationSec` long at `fps`. */
export async function makeStillClip(job: StillClipJob): Promise<Buffer> {
  if (job.width % 2 !== 0 || job.height % 2 !== 0) throw new Error(`still clip needs even sides, got ${job.width}×${job.height}`);
  const mbWidth = Math.ceil(job.width / 16);
  const mbHeight = Math.ceil(job.height / 16);
  const sps = sequenceParameterSet(mbWidth, mbHeight, job.width, job.height);
  const pps = pictureParameterSet();
  const frames = Math.max(1, Math.round(job.durationSec * job.fps));
  const withLength = (unit: Buffer) => Buffer.concat([u32(unit.length), unit]);
  const samples = [withLength(idrSlice(await frameYuv(job, mbWidth, mbHeight), mbWidth, mbHeight))];
  for (let frame = 1; frame < frames; frame++) samples.push(withLength(skipSlice(frame, mbWidth * mbHeight)));
  return mp4(samples, sps, pps, job);
}

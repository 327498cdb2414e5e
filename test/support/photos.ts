import sharp from 'sharp';

/**
 * Photos as phones send them, made here: a JPEG with an EXIF orientation (6: the camera was held
 * upright, the pixels lie on their side), a GPS position and a camera make, and the readers that
 * tell whether a stored photo still carries any of it.
 */

/** A phone-like JPEG: `width`×`height` pixels stored sideways (EXIF orientation 6), with GPS. */
export async function phonePhoto(
  options: { width?: number; height?: number; noise?: boolean } = {},
): Promise<Buffer> {
  const width = options.width ?? 3000;
  const height = options.height ?? 2000;
  const base = options.noise
    ? sharp({
        create: {
          width,
          height,
          channels: 3,
          background: '#808080',
          noise: { type: 'gaussian', mean: 128, sigma: 40 },
        },
      })
    : sharp({ create: { width, height, channels: 3, background: '#3366cc' } });
  return base
    .jpeg({ quality: 92 })
    .withExif({
      IFD0: { Make: 'PhotoTestCam', Model: 'Grid Phone' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '34/1 2/1 0/1',
        GPSLongitudeRef: 'E',
        GPSLongitude: '108/1 56/1 0/1',
      },
    })
    .withMetadata({ orientation: 6 })
    .toBuffer();
}

/** Whether an EXIF block (as sharp's metadata gives it) has a GPS IFD (tag 0x8825 in IFD0). */
export function hasGps(exif: Buffer | undefined): boolean {
  if (!exif) return false;
  // sharp gives the APP1 payload: "Exif\0\0" then a TIFF header.
  const tiff = exif.subarray(exif.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? 6 : 0);
  const little = tiff.subarray(0, 2).toString('latin1') === 'II';
  const u16 = (at: number) => (little ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number) => (little ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  const ifd0 = u32(4);
  const entries = u16(ifd0);
  for (let i = 0; i < entries; i++) {
    if (u16(ifd0 + 2 + i * 12) === 0x8825) return true;
  }
  return false;
}

/** What a stored photo carries: its size, orientation and every metadata block sharp reads. */
export async function photoFacts(bytes: Buffer) {
  const meta = await sharp(bytes).metadata();
  return {
    format: meta.format,
    width: meta.width,
    height: meta.height,
    orientation: meta.orientation,
    exif: meta.exif,
    xmp: meta.xmp,
    iptc: meta.iptc,
    gps: hasGps(meta.exif),
  };
}

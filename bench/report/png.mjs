/**
 * A dependency-free PNG renderer for the chart's primitives (filled rectangles and text), used
 * when rsvg-convert is not installed: a 5×7 bitmap font, an RGB canvas and a minimal PNG encoder
 * (one IDAT, filter 0, node:zlib deflate, CRC-32 computed here).
 */
import { deflateSync } from 'node:zlib';

// Glyphs for ASCII 32–126, 7 rows each; a row is one base-32 digit whose 5 bits are the pixels.
const FONT =
  '00000004444404aa00000aavavaa4fke5u4op248j3cik8lid44000002488842842224804lel40044v4400000c48000v00000000cc01248g0ehjlphe4c4444eeh1248vv2421he26aiv22vgu11he68guhhev124888ehhehheehhf12c0cc0cc00cc0c48248g84200v0v008421248eh12404eh1dlleehhvhhhuhhuhhuehggghesihhhisvgguggvvggugggehgnhhfhhhvhhhe44444e72222ichikokihggggggvhrllhhhhhpljhhehhhhheuhhugggehhhliduhhukihfgge11uv444444hhhhhhehhhhha4hhhlllahha4ahhhhha444v1248gve88888e0g84210e22222e4ah0000000000v840000000e1fhfggmphhu00egghe11djhhf00ehvge698s8880fhhf1eggmphhh40c444e20622icggikokic44444e00qllhh00mphhh00ehhhe00uhugg00djf1100mpggg00ege1u88s889600hhhjd00hhha400hhlla00ha4ah00hhf1e00v248v244844244444448442448008l200';
const ASCII = { '→': '->', '÷': '/', '×': 'x', '≥': '>=', '≤': '<=', '–': '-', '—': '-', '…': '...', '·': '.' };

function glyph(ch) {
  const c = ch.charCodeAt(0);
  if (c < 32 || c > 126) return glyph('?');
  const g = FONT.slice((c - 32) * 7, (c - 32) * 7 + 7);
  return [...g].map((d) => parseInt(d, 32));
}

const hex = (s) => {
  const h = s.replace('#', '');
  return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16));
};

const CRC = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** Renders `{ width, height, background, items }` (items: {rect}|{text}) to a PNG buffer. */
export function renderPng({ width, height, background = '#ffffff', items }) {
  const px = Buffer.alloc(width * height * 3);
  const set = (x, y, [r, g, b]) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const i = (y * width + x) * 3;
    px[i] = r;
    px[i + 1] = g;
    px[i + 2] = b;
  };
  const fill = (x, y, w, h, color) => {
    for (let yy = Math.round(y); yy < Math.round(y + h); yy++)
      for (let xx = Math.round(x); xx < Math.round(x + w); xx++) set(xx, yy, color);
  };
  fill(0, 0, width, height, hex(background));
  for (const it of items) {
    if (it.type === 'rect') fill(it.x, it.y, it.w, it.h, hex(it.fill));
    else if (it.type === 'text') {
      const s = Math.max(1, Math.floor((it.size ?? 12) / 8)); // 13 px text → 1×, titles → 2×
      const text = [...String(it.text)].map((ch) => ASCII[ch] ?? ch).join('');
      const w = text.length * 6 * s;
      let x = Math.round(it.anchor === 'end' ? it.x - w : it.anchor === 'middle' ? it.x - w / 2 : it.x);
      const y = Math.round(it.y - 7 * s); // SVG text y is the baseline
      const color = hex(it.fill ?? '#000000');
      for (const ch of text) {
        glyph(ch).forEach((row, ry) => {
          for (let cx = 0; cx < 5; cx++) if (row & (1 << (4 - cx))) fill(x + cx * s, y + ry * s, s, s, color);
        });
        x += 6 * s;
      }
    }
  }
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) px.copy(raw, y * (width * 3 + 1) + 1, y * width * 3, (y + 1) * width * 3);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

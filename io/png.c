/* png.c - PNG to Pillow's RGB with libspng.
 *
 * libspng inflates, unfilters and de-interlaces; it is handed a clean PNG
 * rebuilt from what Pillow's walk (png_chunks.c) kept: the header, a
 * placeholder palette (the real one is applied here, with Pillow's rules),
 * and the image data cut into the 64 KiB pieces Pillow feeds zlib, so that
 * a damaged stream fails at the same place in both. Where Pillow's decoder
 * (libImaging/ZipDecode.c) is more lenient than libspng, a port of its
 * inflate loop decides (pillow_inflate). */
#include "png.h"

#include <spng.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../runtime/status.h"

#define PIECE ((size_t)65536) /* ImageFile.MAXBLOCK: Pillow's reads of image data */

void vr_png_free(vr_png_decoder *d)
{
    vr_png_layout_free(&d->layout);
    free(d->stream);
    free(d->raw);
    free(d->zbuf);
    memset(d, 0, sizeof *d);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A chunk's length and type; its data follows at the pointer returned. */
static uint8_t *chunk(uint8_t *p, const char *type, size_t len)
{
    put32(p, (uint32_t)len);
    memcpy(p + 4, type, 4);
    return p + 8;
}

/* The CRC after the chunk's data at p. Real CRCs: libspng checks zlib's
 * Adler-32 only while it checks CRCs, and Pillow refuses a bad Adler-32. */
static uint8_t *crc_end(uint8_t *p, size_t len)
{
    put32(p, (uint32_t)crc32(0, p - len - 4, (uInt)(len + 4)));
    return p + 4;
}

/* The clean PNG: IHDR for the data's box, a placeholder PLTE, the data
 * pieces (from the file's data chunks, or `z` when it is not NULL), IEND. */
static size_t build_stream(vr_png_decoder *d, const uint8_t *b, const uint8_t *z, size_t zlen)
{
    const vr_png_layout *L = &d->layout;
    /* libspng wants at most 2^depth entries; the indices are not checked */
    size_t plte = L->ctype == 3 ? (size_t)3 << L->depth : 0;
    size_t total = 8 + 25 + (plte ? 12 + plte : 0) + 12, pieces = 0;
    for (size_t i = 0; i < L->ndata && !z; i++) {
        total += L->data[i].avail;
        pieces += (L->data[i].avail + PIECE - 1) / PIECE;
    }
    if (z) {
        total += zlen;
        pieces = (zlen + PIECE - 1) / PIECE;
    }
    total += 12 * pieces;
    if (!vr_image_grow(&d->stream, &d->stream_cap, total))
        return 0;
    uint8_t *p = d->stream;
    memcpy(p, "\x89PNG\r\n\x1a\n", 8);
    p = chunk(p + 8, "IHDR", 13);
    put32(p, L->bw);
    put32(p + 4, L->bh);
    p[8] = (uint8_t)L->depth;
    p[9] = (uint8_t)L->ctype;
    p[10] = p[11] = 0;
    p[12] = (uint8_t)(L->interlaced != 0);
    p = crc_end(p + 13, 13);
    if (plte) {
        p = chunk(p, "PLTE", plte);
        memset(p, 0, plte);
        p = crc_end(p + plte, plte);
    }
    for (size_t i = 0; i < (z ? 1 : L->ndata); i++) {
        const uint8_t *src = z ? z : b + L->data[i].off;
        size_t n = z ? zlen : L->data[i].avail;
        for (size_t o = 0; o < n; o += PIECE) {
            size_t k = n - o < PIECE ? n - o : PIECE;
            p = chunk(p, "IDAT", k);
            memcpy(p, src + o, k);
            p = crc_end(p + k, k);
        }
    }
    crc_end(chunk(p, "IEND", 0), 0);
    return total;
}

/* Bits per pixel of the PNG's samples (Pillow's rawmode bits). */
static size_t pixel_bits(const vr_png_layout *L)
{
    static const size_t channels[7] = {1, 0, 3, 1, 2, 0, 4};
    return channels[L->ctype] * (size_t)L->depth;
}

/* Adam7 (libImaging/ZipDecode.c's tables) */
static const size_t START_ROW[7] = {0, 0, 4, 0, 2, 0, 1}, ROW_INC[7] = {8, 8, 8, 4, 4, 2, 2};
static const size_t COL_OFF[7] = {7, 3, 3, 1, 1, 0, 0}, COL_INC[7] = {8, 8, 4, 4, 2, 2, 1};

/* Bytes of one row of `pass` (-1: not interlaced) of a box bw wide. */
static size_t row_len(const vr_png_layout *L, int pass)
{
    size_t px = pass < 0 ? L->bw : (L->bw + COL_OFF[pass]) / COL_INC[pass];
    return (px * pixel_bits(L) + 7) / 8;
}

/* Moves (*pass, *y) to the next row that has data; 0 after the last. */
static int next_row(const vr_png_layout *L, int *pass, size_t *y)
{
    if (*pass < 0)
        return ++*y < L->bh;
    *y += ROW_INC[*pass];
    while (*y >= L->bh || row_len(L, *pass) == 0) {
        if (++*pass == 7)
            return 0;
        *y = START_ROW[*pass];
    }
    return 1;
}

/* Filtered bytes of the whole image: a filter byte and the data per row. */
static int filtered_size(const vr_png_layout *L, size_t *total)
{
    size_t t = 0, n;
    int pass = L->interlaced ? 0 : -1;
    size_t y = 0;
    do {
        n = row_len(L, pass) + 1;
        if (t > SIZE_MAX - n)
            return 0;
        t += n;
    } while (next_row(L, &pass, &y));
    *total = t;
    return 1;
}

/* Pillow's ZipDecode loop over the data pieces: a row at a time, done when
 * the rows are complete or when zlib's stream ends with a row (the rows
 * after it stay 0). With `keep`, the inflated rows go to d->zbuf, zeros
 * after them; else only one row is held. Returns 1 when Pillow would finish
 * (*used: inflated bytes, *stop: the data chunk it finished in), or -1 with
 * a reason. */
static int pillow_inflate(vr_png_decoder *d, const uint8_t *b, int keep, size_t *used,
                          size_t *stop, char *err, size_t cap)
{
    const vr_png_layout *L = &d->layout;
    size_t total, widest = row_len(L, -1) + 1; /* every pass's rows are at most this */
    if (!filtered_size(L, &total) ||
        !vr_image_grow(&d->zbuf, &d->zbuf_cap, keep ? total : widest))
        return vr_image_reason(err, cap, "out of memory inflating a %ux%u PNG", L->w, L->h);
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK)
        return vr_image_reason(err, cap, "zlib failed to start");
    int pass = L->interlaced ? 0 : -1, r = Z_OK;
    size_t y = 0, pos = 0, got = 0, need = row_len(L, pass) + 1;
    for (size_t i = 0; i < L->ndata; i++) {
        for (size_t o = 0; o < L->data[i].avail; o += PIECE) {
            size_t k = L->data[i].avail - o < PIECE ? L->data[i].avail - o : PIECE;
            z.next_in = (Bytef *)(b + L->data[i].off + o);
            z.avail_in = (uInt)k;
            while (z.avail_in > 0) {
                uint8_t *row = d->zbuf + (keep ? pos : 0);
                z.next_out = row + got;
                z.avail_out = (uInt)(need - got);
                r = inflate(&z, Z_NO_FLUSH);
                if (r < 0) {
                    vr_image_reason(err, cap, "corrupt PNG data: zlib: %s",
                                    z.msg ? z.msg : "error");
                    inflateEnd(&z);
                    return -1;
                }
                got = need - z.avail_out;
                if (got < need)
                    break; /* more input, or a stream that ended inside a row */
                if (row[0] > 4) {
                    inflateEnd(&z);
                    return vr_image_reason(err, cap, "corrupt PNG data: filter type %d",
                                           row[0]);
                }
                pos += need;
                got = 0;
                if (!next_row(L, &pass, &y) || r == Z_STREAM_END) {
                    inflateEnd(&z);
                    if (keep)
                        memset(d->zbuf + pos, 0, total - pos);
                    *used = pos;
                    *stop = i;
                    return 1;
                }
                need = row_len(L, pass) + 1;
            }
        }
    }
    inflateEnd(&z);
    return vr_image_reason(err, cap, "truncated PNG: its image data ends after %zu of %zu "
                           "bytes", pos + got, total);
}

/* libspng on the clean stream into d->raw (box h, row bytes). 0, a libspng
 * error code, or -1 when out of memory. */
static int spng_raw(vr_png_decoder *d, size_t stream_len, size_t raw_len)
{
    spng_ctx *ctx = spng_ctx_new(0);
    if (!ctx)
        return -1;
    size_t got = 0;
    int e = spng_set_crc_action(ctx, SPNG_CRC_ERROR, SPNG_CRC_ERROR);
    /* the clean stream holds chunks of at most PIECE bytes */
    if (!e)
        e = spng_set_chunk_limits(ctx, 2 * PIECE, 2 * PIECE);
    if (!e)
        e = spng_set_png_buffer(ctx, d->stream, stream_len);
    if (!e)
        e = spng_decoded_image_size(ctx, SPNG_FMT_RAW, &got);
    if (!e && got != raw_len)
        e = SPNG_EINTERNAL;
    /* interlaced samples under 8 bits are OR-ed into place */
    memset(d->raw, 0, raw_len);
    if (!e)
        e = spng_decode_image(ctx, d->raw, raw_len, SPNG_FMT_RAW, 0);
    spng_ctx_free(ctx);
    return e;
}

/* Pillow's palette: the PLTE's entries (at most 256; a partial one is
 * dropped), then its gray ramp i,i,i for the indices past them. */
static int palette(const vr_png_layout *L, uint8_t lut[256][3], char *err, size_t cap)
{
    size_t n = L->plte ? L->plte_len / 3 : 0;
    if (n > 256)
        return vr_image_reason(err, cap, "corrupt PNG: a palette of %zu bytes (Pillow: invalid "
                               "palette size)", L->plte_len);
    for (size_t i = 0; i < 256; i++)
        for (int c = 0; c < 3; c++)
            lut[i][c] = i < n ? L->plte[i * 3 + (size_t)c] : (uint8_t)i;
    return 0;
}

/* One row of samples to RGB with Pillow's unpackers and convert('RGB'). */
static void row_to_rgb(const vr_png_layout *L, const uint8_t lut[256][3], uint8_t *o,
                       const uint8_t *s, size_t n)
{
    int d = L->depth;
    for (size_t x = 0; x < n; x++, o += 3) {
        if (L->ctype == 0 || L->ctype == 3) {
            unsigned v;
            if (d < 8) /* packed from the high bit */
                v = (s[x * (size_t)d / 8] >> (8 - d - (int)(x * (size_t)d % 8))) & ((1u << d) - 1);
            else
                v = d == 8 ? s[x] : (unsigned)s[2 * x] << 8 | s[2 * x + 1];
            if (L->ctype == 3) {
                memcpy(o, lut[v], 3);
                continue;
            }
            /* "1" -> 0/255, "L;2" x85, "L;4" x17, "I;16B" clipped to 255 */
            v = d == 1 ? v * 255 : d == 2 ? v * 85 : d == 4 ? v * 17 : d == 16 && v > 255 ? 255 : v;
            o[0] = o[1] = o[2] = (uint8_t)v;
        } else { /* gray+alpha, RGB, RGBA: the high byte of 16-bit samples */
            size_t ch = L->ctype == 4 ? 2 : L->ctype == 2 ? 3 : 4, bs = (size_t)d / 8;
            const uint8_t *p = s + x * ch * bs;
            if (ch == 2)
                o[0] = o[1] = o[2] = p[0];
            else
                for (int c = 0; c < 3; c++)
                    o[c] = p[(size_t)c * bs];
        }
    }
}

/* The decoded box into the (h, w, 3) canvas; Pillow's canvas starts at 0,
 * which a palette image shows as entry 0. */
static int to_rgb(vr_png_decoder *d, uint8_t **rgb, size_t *rgb_cap, size_t row_bytes,
                  char *err, size_t cap)
{
    const vr_png_layout *L = &d->layout;
    uint8_t lut[256][3];
    size_t n = (size_t)L->w * L->h * 3;
    if (L->ctype == 3 && palette(L, lut, err, cap))
        return -1;
    if (!vr_image_grow(rgb, rgb_cap, n))
        return vr_image_reason(err, cap, "out of memory for a %ux%u PNG", L->w, L->h);
    if (L->bw != L->w || L->bh != L->h) {
        uint8_t zero[3] = {0, 0, 0};
        if (L->ctype == 3)
            memcpy(zero, lut[0], 3);
        for (size_t i = 0; i < n; i += 3)
            memcpy(*rgb + i, zero, 3);
    }
    for (size_t y = 0; y < L->bh; y++)
        row_to_rgb(L, lut, *rgb + (((L->by + y) * (size_t)L->w) + L->bx) * 3,
                   d->raw + y * row_bytes, L->bw);
    return 0;
}

int vr_png_decode(vr_png_decoder *d, const uint8_t *buf, size_t len, const vr_image_limits *lim,
                  uint8_t **rgb, size_t *rgb_cap, size_t *h, size_t *w, char *err,
                  size_t errcap)
{
    vr_png_layout *L = &d->layout;
    if (vr_png_walk_head(L, buf, len, err, errcap))
        return -1;
    size_t npix = (size_t)L->w * L->h; /* two 32-bit factors: no overflow */
    if (npix > lim->max_pixels)
        return vr_image_reason(err, errcap, "image is %ux%u = %zu pixels, over the limit of %zu "
                               "(--max-pixels)", L->w, L->h, npix, lim->max_pixels);
    if (!L->bw || !L->bh)
        return vr_image_reason(err, errcap, "corrupt PNG: an fcTL chunk gives the image data "
                               "a %ux%u box", L->bw, L->bh);
    size_t row_bytes = row_len(L, -1), raw_len, slen;
    if (!vr_mul(row_bytes, L->bh, &raw_len) || !vr_image_grow(&d->raw, &d->raw_cap, raw_len) ||
        !(slen = build_stream(d, buf, NULL, 0)))
        return vr_image_reason(err, errcap, "out of memory decoding a %ux%u PNG", L->w, L->h);
    int e = spng_raw(d, slen, raw_len);
    const vr_png_data *last = &L->data[L->ndata - 1];
    int early = e == SPNG_EIDAT_TOO_SHORT;
    if (early || (!e && last->avail < last->len)) {
        /* libspng wants a stream that ends after the last row; Pillow stops
         * at the first row that ends zlib's stream. In a file cut short,
         * Pillow also fails where zlib holds output it would give only for
         * more input (ZipDecode inflates while input remains, libspng while
         * output is wanted), and when a data chunk it reads after the image
         * is cut. */
        size_t used = 0, stop = 0;
        if (pillow_inflate(d, buf, early, &used, &stop, err, errcap) < 0)
            return -1;
        if (stop < L->ndata - 1 && last->avail < last->len)
            return vr_image_reason(err, errcap, "truncated PNG: the file ends inside a data "
                                   "chunk after the image data");
        if (early) {
            /* the rows Pillow decoded, zeros after them, compressed anew */
            size_t total = used;
            filtered_size(L, &total);
            uLongf zlen = compressBound((uLong)total);
            uint8_t *z = malloc(zlen);
            int ok = z && compress2(z, &zlen, d->zbuf, (uLong)total, 1) == Z_OK &&
                     (slen = build_stream(d, buf, z, (size_t)zlen)) != 0;
            free(z);
            if (!ok)
                return vr_image_reason(err, errcap, "out of memory decoding a %ux%u PNG", L->w,
                                       L->h);
            e = spng_raw(d, slen, raw_len);
        }
    }
    if (e == -1)
        return vr_image_reason(err, errcap, "out of memory decoding a %ux%u PNG", L->w, L->h);
    if (e)
        return vr_image_reason(err, errcap, "%s PNG data: %s",
                               e == SPNG_EIDAT_TOO_SHORT ? "truncated" : "corrupt",
                               spng_strerror(e));
    if (vr_png_walk_tail(L, buf, len, err, errcap) || to_rgb(d, rgb, rgb_cap, row_bytes, err,
                                                            errcap))
        return -1;
    *h = L->h;
    *w = L->w;
    return 0;
}

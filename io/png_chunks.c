/* png_chunks.c - PNG chunks walked as Pillow 9.4's PngImagePlugin walks
 * them (ChunkStream.read/crc, PngStream.chunk_*, PngImageFile._open,
 * load_read, load_end); each rule names the Pillow code it follows. */
#include "png_chunks.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "image_common.h"

/* PngImagePlugin: MAX_TEXT_CHUNK = ImageFile.SAFEBLOCK, MAX_TEXT_MEMORY = 64 of them */
#define TEXT_CHUNK ((size_t)1 << 20)
#define TEXT_MEMORY (64 * TEXT_CHUNK)

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* is_cid = re.compile(rb"\w\w\w\w").match: ASCII letters, digits, '_' */
static int is_cid(const uint8_t *c)
{
    for (int i = 0; i < 4; i++)
        if (!((c[i] >= 'a' && c[i] <= 'z') || (c[i] >= 'A' && c[i] <= 'Z') ||
              (c[i] >= '0' && c[i] <= '9') || c[i] == '_'))
            return 0;
    return 1;
}

static int is(const uint8_t *cid, const char *name)
{
    return !memcmp(cid, name, 4);
}

void vr_png_layout_free(vr_png_layout *L)
{
    free(L->data);
    free(L->text);
    memset(L, 0, sizeof *L);
}

/* _safe_zlib_decompress: at most 1 MiB out; more is an error, a corrupt
 * stream is not (Pillow catches zlib.error and keeps no text). Returns the
 * bytes written to L->text (*bad = 1 when zlib failed), or -1 when too large. */
static long inflate_text(vr_png_layout *L, const uint8_t *in, size_t n, int *bad)
{
    *bad = 0;
    if (!L->text && !(L->text = malloc(TEXT_CHUNK)))
        return -2;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK)
        return -2;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n; /* a chunk is at most 2^32 - 1 bytes */
    z.next_out = L->text;
    z.avail_out = (uInt)TEXT_CHUNK;
    int r = inflate(&z, Z_NO_FLUSH);
    long got = (long)(TEXT_CHUNK - z.avail_out);
    /* Python keeps the input that did not fit as unconsumed_tail: refused */
    int tail = r != Z_STREAM_END && z.avail_in > 0 && z.avail_out == 0;
    inflateEnd(&z);
    if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR) {
        *bad = 1;
        return 0;
    }
    return tail ? -1 : got;
}

/* Python's strict UTF-8 decoding: 0 if invalid, else 1 and the code points. */
static int utf8_chars(const uint8_t *s, size_t n, size_t *chars)
{
    size_t i = 0, c = 0;
    while (i < n) {
        uint8_t b = s[i];
        size_t k = b < 0x80 ? 0 : (b & 0xE0) == 0xC0 ? 1 : (b & 0xF0) == 0xE0 ? 2
                 : (b & 0xF8) == 0xF0 ? 3 : 9;
        if (k == 9 || (k == 1 && b < 0xC2) || (k == 3 && b > 0xF4) || n - i <= k)
            return 0;
        for (size_t j = 1; j <= k; j++)
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
        uint8_t b1 = k ? s[i + 1] : 0;
        if ((b == 0xE0 && b1 < 0xA0) || (b == 0xED && b1 >= 0xA0) ||  /* overlong, surrogate */
            (b == 0xF0 && b1 < 0x90) || (b == 0xF4 && b1 >= 0x90))    /* overlong, > U+10FFFF */
            return 0;
        i += k + 1;
        c++;
    }
    *chars = c;
    return 1;
}

static int add_text(vr_png_layout *L, size_t n, char *err, size_t cap)
{
    L->text_mem += n;
    if (L->text_mem > TEXT_MEMORY)
        return vr_image_reason(err, cap, "corrupt PNG: over %zu bytes of text chunks "
                               "(Pillow's MAX_TEXT_MEMORY)", TEXT_MEMORY);
    return 0;
}

/* zTXt and iTXt: inflate with Pillow's limit; *len = -1 when zlib failed. */
static int text_inflate(vr_png_layout *L, const uint8_t *in, size_t n, const char *what,
                        long *len, char *err, size_t cap)
{
    int bad;
    *len = inflate_text(L, in, n, &bad);
    if (*len == -2)
        return vr_image_reason(err, cap, "out of memory for a PNG %s chunk", what);
    if (*len == -1)
        return vr_image_reason(err, cap, "corrupt PNG: a %s chunk inflates to over %zu bytes "
                               "(Pillow: Decompressed Data Too Large)", what, TEXT_CHUNK);
    if (bad)
        *len = -1;
    return 0;
}

static int text_chunks(vr_png_layout *L, const uint8_t *cid, const uint8_t *s, size_t n,
                       char *err, size_t cap)
{
    const uint8_t *nul = memchr(s, 0, n);
    size_t klen = nul ? (size_t)(nul - s) : n;
    const uint8_t *v = nul ? nul + 1 : s + n;
    size_t vlen = (size_t)(s + n - v);
    long got;
    if (is(cid, "tEXt"))
        return klen ? add_text(L, vlen, err, cap) : 0;
    if (is(cid, "zTXt")) {
        if (vlen && v[0] != 0)
            return vr_image_reason(err, cap, "corrupt PNG: zTXt compression method %d",
                                   v[0]);
        if (text_inflate(L, vlen ? v + 1 : v, vlen ? vlen - 1 : 0, "zTXt", &got, err, cap))
            return -1;
        return klen && got > 0 ? add_text(L, (size_t)got, err, cap) : 0;
    }
    /* iTXt: keyword, flag, method, language, translated keyword, text; any
     * malformation only drops the chunk */
    if (!nul || vlen < 2)
        return 0;
    int cf = v[0], cm = v[1];
    const uint8_t *r = v + 2, *end = s + n, *lang = r;
    const uint8_t *z1 = memchr(r, 0, (size_t)(end - r));
    if (!z1)
        return 0;
    const uint8_t *tk = z1 + 1, *z2 = memchr(tk, 0, (size_t)(end - tk));
    if (!z2)
        return 0;
    const uint8_t *t = z2 + 1;
    size_t tlen = (size_t)(end - t), chars;
    if (cf) {
        if (cm)
            return 0;
        if (text_inflate(L, t, tlen, "iTXt", &got, err, cap))
            return -1;
        if (got < 0)
            return 0;
        t = L->text;
        tlen = (size_t)got;
    }
    if (!utf8_chars(lang, (size_t)(z1 - lang), &chars) ||
        !utf8_chars(tk, (size_t)(z2 - tk), &chars) || !utf8_chars(t, tlen, &chars))
        return 0;
    return add_text(L, chars, err, cap);
}

/* chunk_fcTL and chunk_fdAT's sequence rule: the first is 0, each next +1 */
static int sequence(vr_png_layout *L, uint32_t seq, int fctl, char *err, size_t cap)
{
    const char *what = fctl ? "fcTL" : "fdAT";
    /* fdAT compares with None when no fcTL came first: always refused */
    int ok = L->have_seq ? seq != 0 && L->seq == seq - 1 : fctl && seq == 0;
    if (!ok)
        return vr_image_reason(err, cap, "corrupt PNG: APNG %s chunk out of sequence (%u)",
                               what, seq);
    L->seq = seq;
    L->have_seq = 1;
    return 0;
}

/* Pillow's _MODES: the bit depth and colour type pairs it opens */
static int has_mode(int depth, int ctype)
{
    switch (ctype) {
    case 0: return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
    case 3: return depth == 1 || depth == 2 || depth == 4 || depth == 8;
    case 2: case 4: case 6: return depth == 8 || depth == 16;
    default: return 0;
    }
}

/* PngStream.chunk_<cid> for a chunk whose n bytes are all present. */
static int handle(vr_png_layout *L, const uint8_t *cid, const uint8_t *s, size_t n, char *err,
                  size_t cap)
{
    if (is(cid, "IHDR")) {
        if (n < 13)
            return vr_image_reason(err, cap, "corrupt PNG: IHDR chunk of %zu bytes, "
                                   "expected 13", n);
        L->w = be32(s);
        L->h = be32(s + 4);
        if (has_mode(s[8], s[9])) { /* else Pillow keeps the mode it had */
            L->depth = s[8];
            L->ctype = s[9];
            L->have_mode = 1;
        }
        L->interlaced |= s[12] != 0;
        if (s[11])
            return vr_image_reason(err, cap, "corrupt PNG: unknown filter method %d", s[11]);
    } else if (is(cid, "PLTE")) {
        if (L->have_mode && L->ctype == 3) {
            L->plte = s;
            L->plte_len = n;
        }
    } else if (is(cid, "tRNS")) {
        size_t need = !L->have_mode ? 0 : L->ctype == 0 ? 2 : L->ctype == 2 ? 6 : 0;
        if (n < need)
            return vr_image_reason(err, cap, "corrupt PNG: tRNS chunk of %zu bytes, expected "
                                   "%zu", n, need);
    } else if ((is(cid, "gAMA") && n < 4) || (is(cid, "cHRM") && n % 4) ||
               (is(cid, "sRGB") && n < 1) || (is(cid, "pHYs") && n < 9) ||
               (is(cid, "acTL") && n < 8) || (is(cid, "fcTL") && n < 26)) {
        return vr_image_reason(err, cap, "corrupt PNG: %.4s chunk of %zu bytes", cid, n);
    } else if (is(cid, "tEXt") || is(cid, "zTXt") || is(cid, "iTXt")) {
        return text_chunks(L, cid, s, n, err, cap);
    } else if (is(cid, "iCCP")) {
        if (!n)
            return vr_image_reason(err, cap, "corrupt PNG: empty iCCP chunk");
        const uint8_t *nul = memchr(s, 0, n);
        size_t i = nul ? (size_t)(nul - s) : n - 1; /* Python: s[s.find(b"\0")] */
        if (s[i])
            return vr_image_reason(err, cap, "corrupt PNG: iCCP compression method %d", s[i]);
        size_t from = nul ? i + 2 : 1;
        long got;
        return from < n ? text_inflate(L, s + from, n - from, "iCCP", &got, err, cap) : 0;
    } else if (is(cid, "acTL")) {
        uint32_t f = be32(s);
        if (L->have_frames) /* a second acTL: "Invalid APNG", no animation */
            L->have_frames = 0;
        else if (f != 0 && f <= 0x80000000u) {
            L->have_frames = 1;
            L->frames = f;
        }
    } else if (is(cid, "fcTL")) {
        if (sequence(L, be32(s), 1, err, cap))
            return -1;
        uint64_t w = be32(s + 4), h = be32(s + 8), x = be32(s + 12), y = be32(s + 16);
        if (x + w > L->w || y + h > L->h)
            return vr_image_reason(err, cap, "corrupt PNG: APNG frame %llux%llu at (%llu, %llu) "
                                   "outside the %ux%u image", (unsigned long long)w,
                                   (unsigned long long)h, (unsigned long long)x,
                                   (unsigned long long)y, L->w, L->h);
        L->bx = (uint32_t)x;
        L->by = (uint32_t)y;
        L->bw = (uint32_t)w;
        L->bh = (uint32_t)h;
        L->have_box = 1;
    }
    return 0;
}

/* chunk_fdAT: its sequence number, present in the file. */
static int fdat(vr_png_layout *L, const uint8_t *b, size_t n, size_t p, size_t len, char *err,
                size_t cap)
{
    if (len < 4)
        return vr_image_reason(err, cap, "corrupt PNG: fdAT chunk of %zu bytes", len);
    if (n - p < 4)
        return vr_image_reason(err, cap, "truncated PNG: the file ends inside an fdAT chunk");
    return sequence(L, be32(b + p), 0, err, cap);
}

static int add_data(vr_png_layout *L, size_t off, size_t len, size_t n, char *err, size_t cap)
{
    if (L->ndata == L->data_cap) {
        size_t c = L->data_cap ? 2 * L->data_cap : 16;
        vr_png_data *d = realloc(L->data, c * sizeof *d);
        if (!d)
            return vr_image_reason(err, cap, "out of memory listing PNG data chunks");
        L->data = d;
        L->data_cap = c;
    }
    size_t avail = off >= n ? 0 : len < n - off ? len : n - off;
    L->data[L->ndata++] = (vr_png_data){off, len, avail};
    return 0;
}

int vr_png_walk_head(vr_png_layout *L, const uint8_t *b, size_t n, char *err, size_t cap)
{
    uint8_t *text = L->text;
    vr_png_data *data = L->data;
    size_t data_cap = L->data_cap;
    memset(L, 0, sizeof *L);
    L->text = text;
    L->data = data;
    L->data_cap = data_cap;
    size_t p = 8, start, len;
    for (;;) { /* _open: every chunk up to the image data, CRCs checked */
        if (n - p < 8)
            return vr_image_reason(err, cap, "truncated PNG: the file ends before the image "
                                   "data");
        if (!is_cid(b + p + 4))
            return vr_image_reason(err, cap, "corrupt PNG: chunk name %02x %02x %02x %02x at "
                                   "byte %zu", b[p + 4], b[p + 5], b[p + 6], b[p + 7], p + 4);
        const uint8_t *cid = b + p + 4;
        len = be32(b + p);
        p += 8;
        if (is(cid, "IDAT")) {
            start = p;
            break;
        }
        if (is(cid, "fdAT")) {
            if (fdat(L, b, n, p, len, err, cap))
                return -1;
            start = p + 4;
            len -= 4;
            break;
        }
        if (is(cid, "IEND"))
            return vr_image_reason(err, cap, "corrupt PNG: IEND before any image data");
        if (len > n - p)
            return vr_image_reason(err, cap, "truncated PNG: the file ends inside its %.4s "
                                   "chunk", cid);
        if (handle(L, cid, b + p, len, err, cap))
            return -1;
        p += len;
        if (n - p < 4)
            return vr_image_reason(err, cap, "truncated PNG: the file ends before the %.4s "
                                   "chunk's CRC", cid);
        uLong crc = crc32(crc32(0, cid, 4), b + p - len, (uInt)len);
        if (crc != be32(b + p))
            return vr_image_reason(err, cap, "corrupt PNG: bad CRC in its %.4s chunk", cid);
        p += 4;
    }
    if (!L->have_mode || !L->w || !L->h)
        return vr_image_reason(err, cap, L->have_mode ? "corrupt PNG: IHDR gives a %ux%u image"
                               : "corrupt PNG: no IHDR with a bit depth and colour type "
                               "Pillow reads", L->w, L->h);
    /* chunk_IDAT: the data fills the fcTL's box if one came first; an acTL
     * without one makes the IDAT image an extra frame */
    uint64_t frames = (L->have_frames ? L->frames : 1) + (!L->have_box && L->have_frames);
    L->animated = frames > 1;
    if (!L->have_box) {
        L->bx = L->by = 0;
        L->bw = L->w;
        L->bh = L->h;
    }
    /* load_read: the data goes on through IDAT, DDAT and fdAT chunks */
    for (;;) {
        if (add_data(L, start, len, n, err, cap))
            return -1;
        if (len > n - start || n - (start + len) < 12) {
            L->after = n;
            return 0;
        }
        p = start + len + 4;
        const uint8_t *cid = b + p + 4;
        if (!is(cid, "IDAT") && !is(cid, "DDAT") && !is(cid, "fdAT")) {
            L->after = p;
            return 0;
        }
        len = be32(b + p);
        start = p + 8;
        if (is(cid, "fdAT")) {
            if (fdat(L, b, n, start, len, err, cap))
                return -1;
            start += 4;
            len -= 4;
        }
    }
}

int vr_png_walk_tail(vr_png_layout *Lout, const uint8_t *b, size_t n, char *err, size_t cap)
{
    /* Handlers here change Pillow's PngStream, not the image it loaded: a
     * second IHDR after the data must not resize what was decoded */
    vr_png_layout copy = *Lout, *L = &copy;
    int r = 0;
    size_t p = L->after;
    while (p <= n && n - p >= 8 && is_cid(b + p + 4)) { /* a bad header ends it quietly */
        const uint8_t *cid = b + p + 4;
        size_t len = be32(b + p);
        p += 8;
        if (is(cid, "IEND") || (is(cid, "fcTL") && L->animated))
            break;
        if (is(cid, "fdAT") && (r = fdat(L, b, n, p, len, err, cap)) != 0)
            break;
        if (len > n - p) {
            r = vr_image_reason(err, cap, "truncated PNG: the file ends inside a %.4s chunk "
                                "after the image data", cid);
            break;
        }
        if (!is(cid, "IDAT") && !is(cid, "fdAT") && (r = handle(L, cid, b + p, len, err, cap)))
            break;
        p += len + 4; /* CRCs after the image data are not checked */
    }
    Lout->text = copy.text; /* the scratch a handler may have allocated */
    return r;
}

/* fuzz_jpeg.c - libFuzzer target: untrusted JPEG bytes through TurboJPEG,
 * the colour conversion, every preprocessing preset's resize and crop, and
 * the normalisation (io/jpeg.c, runtime/resample.c, runtime/preprocess.c).
 *
 * Input: 4 bytes choosing the preprocessing, then the file.
 *   [0] preset: %5 = hf, torchvision, timm, exact, shorter (the last two
 *       with bit 3: bicubic, else bilinear)
 *   [1] crop size - 1 (1..256); [2] resize_size - crop for exact/shorter
 *   [3] limits: %5 picks max_pixels (2^6 .. 2^18), bit 3 DCT scaling,
 *       bit 4 read through a file (vr_jpeg_load) with bit 5 a byte limit
 *       below the file's size
 * Each image is decoded by a fresh decoder and by one reused across the
 * run (as a decoding thread reuses its own: it decoded a colour JPEG first,
 * and its pixel buffer is filled with a pattern before each image): both
 * must agree, or a row's values would depend on the image decoded before it
 * (pixels left unwritten, tables kept from another file). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../io/jpeg.h"
#include "../../runtime/preprocess.h"
#include "fuzz_util.h"

#define MAX_PIXELS ((size_t)1 << 18)

/* an 8x8 colour JPEG (PIL, quality 10): the reused decoder's first image */
static const uint8_t k_first[] = {
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x50, 0x37, 0x3c, 0x46, 0x3c,
    0x32, 0x50, 0x46, 0x41, 0x46, 0x5a, 0x55, 0x50, 0x5f, 0x78, 0xc8, 0x82, 0x78, 0x6e, 0x6e,
    0x78, 0xf5, 0xaf, 0xb9, 0x91, 0xc8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xdb, 0x00, 0x43, 0x01, 0x55, 0x5a, 0x5a, 0x78, 0x69, 0x78, 0xeb, 0x82, 0x82, 0xeb, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x08,
    0x00, 0x08, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xff, 0xc4, 0x00,
    0x14, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xff, 0xc4, 0x00, 0x19, 0x10, 0x01, 0x01, 0x00, 0x03, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x11, 0x21, 0x31,
    0xa1, 0xff, 0xc4, 0x00, 0x14, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xc4, 0x00, 0x14, 0x11, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3f, 0x00, 0x20,
    0x74, 0x0d, 0xe3, 0x66, 0x3d, 0x3b, 0x24, 0x83, 0xff, 0xd9};

static vr_jpeg_decoder g_reused;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    vf_setup("jpeg");
    if (vr_jpeg_init(&g_reused) != 0)
        vf_fail("TurboJPEG failed to start");
    /* a buffer for the largest image allowed (CMYK), so it is reused */
    g_reused.pix_cap = MAX_PIXELS * 4;
    if (!(g_reused.pix = malloc(g_reused.pix_cap)))
        vf_fail("out of memory");
    /* whatever state a decoder keeps, it holds some from the start */
    vr_preprocess p = {.mean = {0.5, 0.5, 0.5}, .std = {0.5, 0.5, 0.5}};
    vr_jpeg_limits lim = {MAX_PIXELS, MAX_PIXELS, 0};
    uint8_t out[4 * 4 * 3];
    char err[256];
    vr_preprocess_preset(&p, "hf", 4, 4);
    if (vr_jpeg_decode(&g_reused, k_first, sizeof k_first, &p, &lim, out, err, sizeof err))
        vf_fail("the first image does not decode: %s", err);
    return 0;
}

static int decode(vr_jpeg_decoder *d, const uint8_t *file, size_t n, const char *path,
                  const vr_preprocess *p, const vr_jpeg_limits *lim, uint8_t *out, char *err,
                  size_t errcap)
{
    if (path)
        return vr_jpeg_load(d, path, p, lim, out, err, errcap);
    return vr_jpeg_decode(d, file, n, p, lim, out, err, errcap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    vr_preprocess p;
    vr_jpeg_limits lim;
    size_t crop = (size_t)data[1] + 1;
    const uint8_t *file = data + 4;
    size_t n = size - 4;
    vf_image_header(data, n, MAX_PIXELS, &p, &lim);
    char pathbuf[4096];
    const char *path = NULL;
    if (data[3] & 16) {
        path = vf_path(pathbuf, sizeof pathbuf, "image.jpg");
        vf_write(path, file, n);
    }

    size_t img = crop * crop * 3; /* exact sizes: ASan sees any overrun */
    uint8_t *a = malloc(img), *b = malloc(img);
    float *t = malloc(img * sizeof(float));
    char ea[256] = "", eb[256] = "";
    vr_jpeg_decoder fresh;
    if (!a || !b || !t || vr_jpeg_init(&fresh) != 0)
        vf_fail("out of memory");
    int ra = decode(&fresh, file, n, path, &p, &lim, a, ea, sizeof ea);
    memset(g_reused.pix, 0x5a, g_reused.pix_cap); /* what an earlier image left */
    int rb = decode(&g_reused, file, n, path, &p, &lim, b, eb, sizeof eb);
    vr_jpeg_free(&fresh);
    if (ra != rb || (ra == 0 && memcmp(a, b, img)) || (ra != 0 && strcmp(ea, eb)))
        vf_fail("a reused decoder differs from a fresh one: %d '%s' vs %d '%s'", rb, eb, ra, ea);
    if (ra == 0) {
        vr_normalize_u8(t, a, 1, crop, crop, 3, &p);
        if (vr_has_nonfinite(t, img))
            vf_fail("non-finite pixels after normalising");
    } else if (!ea[0]) {
        vf_fail("a refused image without a reason");
    }
    free(a);
    free(b);
    free(t);
    return 0;
}

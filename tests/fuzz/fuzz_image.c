/* fuzz_image.c - libFuzzer target: untrusted image bytes of any format
 * through the format dispatch (io/image.c), PNG's chunk walk and libspng
 * (io/png_chunks.c, io/png.c), libwebp's animation decoder (io/webp.c),
 * TurboJPEG (io/jpeg.c), and every preset's resize and crop.
 *
 * Input: 4 bytes choosing the preprocessing, then the file.
 *   [0] preset: %5 = hf, torchvision, timm, exact, shorter (the last two
 *       with bit 3: bicubic, else bilinear)
 *   [1] crop size - 1 (1..256); [2] resize_size - crop for exact/shorter
 *   [3] limits: %5 picks max_pixels (2^6 .. 2^18), bit 3 JPEG DCT scaling,
 *       bit 4 read through a file (vr_image_load) with bit 5 a byte limit
 *       below the file's size
 * Each image is decoded by a fresh decoder and by one reused across the run
 * whose buffers are filled with a pattern first (what earlier images left):
 * both must agree, or a row would depend on the image decoded before it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../io/image.h"
#include "../../runtime/preprocess.h"
#include "fuzz_util.h"

#define MAX_PIXELS ((size_t)1 << 18)

static vr_image_decoder g_reused;

/* every buffer the decoder keeps, large enough that it is never regrown */
static void reserve(uint8_t **p, size_t *cap, size_t n)
{
    if (!vr_image_grow(p, cap, n))
        vf_fail("out of memory");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    vf_setup("image");
    if (vr_image_init(&g_reused) != 0)
        vf_fail("TurboJPEG failed to start");
    reserve(&g_reused.jpeg.pix, &g_reused.jpeg.pix_cap, MAX_PIXELS * 4);
    reserve(&g_reused.rgb, &g_reused.rgb_cap, MAX_PIXELS * 3);
    reserve(&g_reused.png.raw, &g_reused.png.raw_cap, MAX_PIXELS * 8 + 4096);
    return 0;
}

static int decode(vr_image_decoder *d, const uint8_t *file, size_t n, const char *path,
                  const vr_preprocess *p, const vr_image_limits *lim, uint8_t *out, char *err,
                  size_t errcap)
{
    if (path)
        return vr_image_load(d, path, p, lim, out, err, errcap);
    return vr_image_decode(d, file, n, p, lim, out, err, errcap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    vr_preprocess p;
    vr_image_limits lim;
    size_t crop = (size_t)data[1] + 1;
    const uint8_t *file = data + 4;
    size_t n = size - 4;
    vf_image_header(data, n, MAX_PIXELS, &p, &lim);
    char pathbuf[4096];
    const char *path = NULL;
    if (data[3] & 16) {
        path = vf_path(pathbuf, sizeof pathbuf, "image.png");
        vf_write(path, file, n);
    }

    size_t img = crop * crop * 3; /* exact sizes: ASan sees any overrun */
    uint8_t *a = malloc(img), *b = malloc(img);
    float *t = malloc(img * sizeof(float));
    char ea[256] = "", eb[256] = "";
    vr_image_decoder fresh;
    if (!a || !b || !t || vr_image_init(&fresh) != 0)
        vf_fail("out of memory");
    int ra = decode(&fresh, file, n, path, &p, &lim, a, ea, sizeof ea);
    /* what an earlier image left */
    memset(g_reused.jpeg.pix, 0x5a, g_reused.jpeg.pix_cap);
    memset(g_reused.rgb, 0xa5, g_reused.rgb_cap);
    memset(g_reused.png.raw, 0x3c, g_reused.png.raw_cap);
    if (g_reused.png.zbuf)
        memset(g_reused.png.zbuf, 0xc3, g_reused.png.zbuf_cap);
    int rb = decode(&g_reused, file, n, path, &p, &lim, b, eb, sizeof eb);
    vr_image_free(&fresh);
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

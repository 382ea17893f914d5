/* webp.c - WebP to Pillow's RGB with libwebp's animation decoder, as
 * Pillow 9.4's _webp.c (_anim_decoder_new, _anim_decoder_get_next) does. */
#include "webp.h"

#include <string.h>
#include <webp/demux.h>

int vr_webp_decode(const uint8_t *buf, size_t len, const vr_image_limits *lim, uint8_t **rgb,
                   size_t *rgb_cap, size_t *h, size_t *w, char *err, size_t errcap)
{
    /* WebPImagePlugin._accept: Pillow opens a RIFF WEBP whose first chunk
     * is VP8, VP8L or VP8X and no other */
    if (len < 16 || (memcmp(buf + 12, "VP8 ", 4) && memcmp(buf + 12, "VP8L", 4) &&
                     memcmp(buf + 12, "VP8X", 4)))
        return vr_image_reason(err, errcap, "corrupt WebP: %s", len < 16 ? "the file ends in "
                               "its header" : "its first chunk is not VP8, VP8L or VP8X");
    WebPData data = {buf, len};
    /* The canvas size, before the decoder allocates two canvases of it. */
    WebPDemuxer *dmx = WebPDemux(&data);
    if (!dmx)
        return vr_image_reason(err, errcap, "corrupt or truncated WebP: libwebp cannot parse "
                               "its chunks");
    size_t cw = WebPDemuxGetI(dmx, WEBP_FF_CANVAS_WIDTH);
    size_t ch = WebPDemuxGetI(dmx, WEBP_FF_CANVAS_HEIGHT);
    WebPDemuxDelete(dmx);
    if (cw * ch > lim->max_pixels) /* 24-bit sides: no overflow */
        return vr_image_reason(err, errcap, "image is %zux%zu = %zu pixels, over the limit of "
                               "%zu (--max-pixels)", cw, ch, cw * ch, lim->max_pixels);
    /* Pillow passes no options: RGBA, not premultiplied, no threads */
    WebPAnimDecoderOptions opt;
    if (!WebPAnimDecoderOptionsInit(&opt))
        return vr_image_reason(err, errcap, "libwebp's version does not match its header");
    opt.color_mode = MODE_RGBA;
    opt.use_threads = 0;
    WebPAnimDecoder *dec = WebPAnimDecoderNew(&data, &opt);
    WebPAnimInfo info;
    if (!dec || !WebPAnimDecoderGetInfo(dec, &info)) {
        WebPAnimDecoderDelete(dec);
        return vr_image_reason(err, errcap, "corrupt WebP: libwebp cannot start decoding it");
    }
    uint8_t *canvas;
    int ts;
    size_t n = (size_t)info.canvas_width * info.canvas_height;
    if (!WebPAnimDecoderGetNext(dec, &canvas, &ts)) {
        WebPAnimDecoderDelete(dec);
        return vr_image_reason(err, errcap, "corrupt or truncated WebP: its first frame does "
                               "not decode");
    }
    if (!vr_image_grow(rgb, rgb_cap, n * 3)) {
        WebPAnimDecoderDelete(dec);
        return vr_image_reason(err, errcap, "out of memory for a %ux%u WebP", info.canvas_width,
                               info.canvas_height);
    }
    for (size_t i = 0; i < n; i++) /* convert('RGB'): alpha dropped */
        memcpy(*rgb + i * 3, canvas + i * 4, 3);
    WebPAnimDecoderDelete(dec);
    *h = info.canvas_height;
    *w = info.canvas_width;
    return 0;
}

/* png_chunks.h - a PNG file's chunks walked by the rules of Pillow 9.4's
 * PngImagePlugin, so that vitrun accepts and refuses the files Pillow does.
 *
 * Pillow is lenient in some places and strict in others, and neither
 * matches libspng: it checks the CRC of every chunk before the image data
 * but of none after it; it takes the image data from the first IDAT (or
 * fdAT) and the IDAT, DDAT and fdAT chunks that follow it directly; it
 * refuses short gAMA/pHYs/sRGB/tRNS chunks, too much text and an fcTL out
 * of order; it ignores a missing IEND and anything after it. The walk
 * records what libspng then needs (the header, the palette, the data
 * chunks) and io/png.c hands libspng a clean stream made of those alone.
 */
#ifndef VR_PNG_CHUNKS_H
#define VR_PNG_CHUNKS_H

#include <stddef.h>
#include <stdint.h>

/* One chunk of image data: declared length, and the bytes the file holds. */
typedef struct {
    size_t off;    /* offset of the data in the file (after an fdAT's number) */
    size_t len;    /* declared length */
    size_t avail;  /* bytes present (< len when the file ends inside it) */
} vr_png_data;

typedef struct {
    uint32_t w, h;          /* IHDR: the image's size */
    int depth, ctype;       /* bit depth and colour type, a pair Pillow has a mode for */
    int interlaced;         /* Adam7 (Pillow takes any non-zero method as Adam7) */
    const uint8_t *plte;    /* the palette Pillow keeps, plte_len bytes; NULL: none */
    size_t plte_len;
    uint32_t bx, by, bw, bh; /* where the image data goes: an fcTL's box before it, else
                               the whole image */
    vr_png_data *data;      /* (ndata) the run of data chunks, in file order */
    size_t ndata, data_cap;
    size_t after;           /* offset of the chunk header after the run */
    /* walk state Pillow keeps across the file */
    int have_mode, have_box, have_seq, have_frames, animated;
    uint32_t seq, frames;
    size_t text_mem;
    uint8_t *text;          /* scratch for decompressed text (1 MiB, on demand) */
} vr_png_layout;

void vr_png_layout_free(vr_png_layout *L);

/* Pillow's open(): the chunks before the image data, then the run of data
 * chunks. 0, or -1 with a reason. */
int vr_png_walk_head(vr_png_layout *L, const uint8_t *b, size_t n, char *err, size_t cap);

/* Pillow's load_end(): the chunks after the image data, from L->after,
 * whose handlers can still refuse the file. 0, or -1 with a reason. */
int vr_png_walk_tail(vr_png_layout *L, const uint8_t *b, size_t n, char *err, size_t cap);

#endif

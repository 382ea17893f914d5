/* clones.h - function multi-versioning for loops the compiler vectorises.
 *
 * vitrun is built for any x86-64; a function marked VR_CLONES is compiled
 * three times (AVX-512, AVX2, baseline) and glibc's ifunc picks the widest
 * the CPU has when the program starts. GCC on x86-64 Linux only; elsewhere
 * the mark is empty and the baseline is all there is. */
#ifndef VR_CLONES_H
#define VR_CLONES_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define VR_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define VR_CLONES
#endif

#endif

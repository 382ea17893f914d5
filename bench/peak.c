/* peak.c - this core's peak rate for float32 FMA, bfloat16 and int8 dot products.
 *
 *     gcc -O2 -mavx512f -mavx512bf16 -mavx512vnni bench/peak.c -o out/peak && out/peak
 *
 * 12 independent accumulators (24 instructions a loop for the dot products),
 * enough to hide each latency, so the loop runs at the instructions' issue
 * rate. Prints per core GFLOP/s for FMA and vdpbf16ps (an FMA on 16 floats
 * is 32 FLOP, a vdpbf16ps 64), int8 GOP/s for AVX-512 VNNI's vpdpbusd (16
 * lanes of 4 u8 x s8 products added into int32: 64 multiply-adds, 128 OP;
 * what vitrun --precision int8's GEMMs run on), and the dot products'
 * latency. Run one copy per core at once for the machine's peak.
 * docs/PERFORMANCE.md uses it for the FLOP peak and for why bf16 does not
 * pay on a CPU without AMX.
 */
#include <stdio.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#define R8(op, a)                                                                             \
    op " %%zmm30,%%zmm31,%%zmm" #a "0\n" op " %%zmm30,%%zmm31,%%zmm" #a "1\n" op              \
       " %%zmm30,%%zmm31,%%zmm" #a "2\n" op " %%zmm30,%%zmm31,%%zmm" #a "3\n"

/* time_OP(n, &rate, &latency): seconds for n instructions OP on 12 accumulators, 24 a loop
 * (the issue rate), and for n / 4 in one dependent chain (the latency). */
#define DOT_TIMER(op)                                                                         \
    static void time_##op(long n, double *rate, double *latency)                              \
    {                                                                                         \
        double t = now();                                                                     \
        __asm__ volatile("mov %0, %%rcx\n"                                                    \
                         "2:\n" R8(#op, ) R8(#op, 1) R8(#op, 2) R8(#op, 1) R8(#op, 2)         \
                             R8(#op, ) "dec %%rcx\n jnz 2b\n"                                 \
                         :                                                                    \
                         : "r"(n / 24)                                                        \
                         : "rcx", "xmm0", "xmm1", "xmm2", "xmm3", "xmm10", "xmm11", "xmm12",  \
                           "xmm13", "xmm20", "xmm21", "xmm22", "xmm23", "cc");                \
        *rate = now() - t;                                                                    \
        t = now();                                                                            \
        __asm__ volatile("mov %0, %%rcx\n"                                                    \
                         "3:\n " #op " %%zmm30,%%zmm31,%%zmm0\n dec %%rcx\n jnz 3b\n"        \
                         :                                                                    \
                         : "r"(n / 4)                                                         \
                         : "rcx", "xmm0", "cc");                                              \
        *latency = now() - t;                                                                 \
    }

DOT_TIMER(vdpbf16ps)
DOT_TIMER(vpdpbusd)

int main(void)
{
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f")) {
        printf("peak: this CPU has no AVX-512\n");
        return 0;
    }
    int bf16 = __builtin_cpu_supports("avx512bf16");
    int vnni = __builtin_cpu_supports("avx512vnni");
    const long n = 120000000; /* instructions per measurement */
    for (int round = 0; round < 3; round++) {
        double t = now();
        __asm__ volatile("mov %0, %%rcx\n"
                         "1:\n" R8("vfmadd231ps", ) R8("vfmadd231ps", 1) R8("vfmadd231ps", 2)
                         "dec %%rcx\n jnz 1b\n"
                         :
                         : "r"(n / 12)
                         : "rcx", "xmm0", "xmm1", "xmm2", "xmm3", "xmm10", "xmm11", "xmm12",
                           "xmm13", "xmm20", "xmm21", "xmm22", "xmm23", "cc");
        double fma = now() - t;
        printf("round %d: fp32 FMA %.1f GFLOP/s per core (%.3f ns per instruction)", round,
               n * 32.0 / fma * 1e-9, fma / n * 1e9);
        if (bf16) {
            double dot, lat;
            time_vdpbf16ps(n, &dot, &lat);
            printf("; bf16 vdpbf16ps %.1f GFLOP/s (%.3f ns per instruction, latency %.2f ns)",
                   n * 64.0 / dot * 1e-9, dot / n * 1e9, lat / (n / 4) * 1e9);
        }
        if (vnni) {
            double dot, lat;
            time_vpdpbusd(n, &dot, &lat);
            printf("; int8 vpdpbusd %.1f GOP/s (%.3f ns per instruction, latency %.2f ns)",
                   n * 128.0 / dot * 1e-9, dot / n * 1e9, lat / (n / 4) * 1e9);
        }
        printf("\n");
    }
    if (!bf16)
        printf("peak: no AVX512_BF16 on this CPU\n");
    if (!vnni)
        printf("peak: no AVX512_VNNI on this CPU\n");
    return 0;
}

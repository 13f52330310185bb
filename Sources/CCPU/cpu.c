#define _GNU_SOURCE
#include <sched.h>
#include "pfgm_cpu.h"

#if defined(__x86_64__)
#include <cpuid.h>

// XCR0: which register state the OS saves on a context switch (SSE, YMM, then opmask and both ZMM halves).
static unsigned long long xcr0(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

static int os_saves(unsigned long long bits) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE)) return 0;
    return (xcr0() & bits) == bits;
}

static int leaf7_ebx(unsigned int *ebx) {
    unsigned int a, c, d;
    return __get_cpuid_count(7, 0, &a, ebx, &c, &d);
}

int pfgm_cpu_has_avx2_fma(void) {
    unsigned int a, b, c, d, ebx7;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_FMA) || !(c & bit_AVX)) return 0;
    if (!leaf7_ebx(&ebx7) || !(ebx7 & bit_AVX2)) return 0;
    return os_saves(0x6);
}

int pfgm_cpu_has_avx512(void) {
    unsigned int ebx7;
    if (!pfgm_cpu_has_avx2_fma() || !leaf7_ebx(&ebx7)) return 0;
    if (!(ebx7 & bit_AVX512F) || !(ebx7 & bit_AVX512VL)) return 0;
    return os_saves(0xE6);
}
#else
int pfgm_cpu_has_avx2_fma(void) { return 0; }
int pfgm_cpu_has_avx512(void) { return 0; }
#endif

int pfgm_affinity_count(void) {
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
    return CPU_COUNT(&set);
#else
    return 0;
#endif
}

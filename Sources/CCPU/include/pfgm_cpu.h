#ifndef PFGM_CPU_H
#define PFGM_CPU_H

/// What the CPU and the operating system let this process run (x86-64; 0 elsewhere).
/// AVX2 with FMA, and the YMM state saved by the OS.
int pfgm_cpu_has_avx2_fma(void);
/// AVX-512 F and VL on top of that, and the ZMM and mask state saved by the OS.
int pfgm_cpu_has_avx512(void);

/// CPUs in this process's affinity mask (what taskset and nproc honour), or 0 when it cannot be read.
int pfgm_affinity_count(void);

#endif

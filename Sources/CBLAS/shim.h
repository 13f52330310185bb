#ifndef PFGM_CBLAS_SHIM_H
#define PFGM_CBLAS_SHIM_H
#include <cblas.h>
#include <lapacke.h>
#endif

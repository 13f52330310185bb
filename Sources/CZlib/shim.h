#ifndef PFGM_CZLIB_SHIM_H
#define PFGM_CZLIB_SHIM_H
#include <zlib.h>
#endif

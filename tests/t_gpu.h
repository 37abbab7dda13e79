/* t_gpu.h - the opening of every GPU test: a context on device 0 and the driver table, or the exit status
 * to leave with: 77 (CTest's skip) where there is no driver or device, 1 when the device fails to open. */
#ifndef EG_TEST_T_GPU_H
#define EG_TEST_T_GPU_H

#include <stdio.h>

#include "rt.h"

/* 0 with *ctx and *cu set, else the exit status (the context is then closed). */
static int t_gpu_open(effgen_ctx **ctx, const eg_rt_cuda **cu) {
    *ctx = NULL;
    effgen_status st = effgen_open(ctx, NULL);
    if (!st) st = eg_rt_device(*ctx, cu);
    if (!st) return 0;
    int skip = st == EFFGEN_DRIVER_UNAVAILABLE || st == EFFGEN_NO_DEVICE;
    printf("%s: %s\n", skip ? "skipped" : "FAIL: device", effgen_last_error());
    effgen_close(*ctx);
    *ctx = NULL;
    return skip ? 77 : 1;
}

#endif

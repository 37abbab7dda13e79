/* ctx.c - contexts: options, the device and its primary context (retained on the first call that needs
 * the GPU, so a context opened on a machine without one still generates and compiles), and the
 * per-context module cache that compiles and loads each spec+config once. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"

void effgen_options_init(effgen_options *opt) {
    if (!opt) return;
    memset(opt, 0, sizeof *opt);
}

/* A measurement knob: environment variable `name` as a whole number from 1 to 65536 into *out; anything else
 * is ignored (and logged), never an error, leaving *out as it was. */
static void env_count(effgen_ctx *ctx, const char *name, int *out) {
    const char *env = getenv(name);
    if (!env || !*env) return;
    char *end = NULL;
    long g = strtol(env, &end, 10);
    if (*end == '\0' && g >= 1 && g <= 65536)
        *out = (int)g;
    else
        eg_rt_log(ctx, "%s=\"%s\" ignored: must be a whole number from 1 to 65536", name, env);
}

effgen_status effgen_open(effgen_ctx **out, const effgen_options *opt) {
    if (!out) return eg_err(EFFGEN_INVALID_ARGUMENT, "out=NULL: must point to an effgen_ctx pointer");
    *out = NULL;
    effgen_options o;
    effgen_options_init(&o);
    if (opt) o = *opt;
    if (o.device < 0) return eg_err(EFFGEN_INVALID_ARGUMENT, "device=%d: must be >= 0", o.device);
    if (o.no_gpu != 0 && o.no_gpu != 1) return eg_err(EFFGEN_INVALID_ARGUMENT, "no_gpu=%d: must be 0 or 1", o.no_gpu);

    effgen_status st = EFFGEN_OK;
    char *arch_text = NULL;
    effgen_ctx *ctx = NULL;
    int arch = 0;
    if (o.arch) {
        st = eg_arch_parse(o.arch, &arch);
        if (st) goto fail;
        /* the caller's string may not outlive the context: keep a canonical copy of our own */
        char buf[16];
        eg_arch_print(arch, buf, sizeof buf);
        arch_text = strdup(buf);
        if (!arch_text) {
            st = eg_err(EFFGEN_NO_MEMORY, "effgen_open: out of memory");
            goto fail;
        }
    }
    ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        st = eg_err(EFFGEN_NO_MEMORY, "effgen_open: out of memory");
        goto fail;
    }
    if (pthread_mutex_init(&ctx->lock, NULL) != 0) {
        st = eg_err(EFFGEN_INTERNAL, "effgen_open: pthread_mutex_init failed");
        goto fail;
    }
    ctx->opt = o;
    ctx->opt.arch = arch_text;
    ctx->arch = arch;
    const char *env = getenv("EFFGEN_LOG");
    ctx->log = env && *env && strcmp(env, "0") != 0;
    env = getenv("EFFGEN_WG_PERSISTENT");
    ctx->wg_persistent = !env || !*env ? -1 : strcmp(env, "0") != 0;
    /* for measurements (launch.c): heads per group of the launch order, query blocks per strip of the wg
     * kernels that walk strips */
    env_count(ctx, "EFFGEN_HEAD_GROUP", &ctx->head_group);
    env_count(ctx, "EFFGEN_WG_STRIP", &ctx->wg_strip);
    st = eg_rt_dispatch_init(ctx); /* records where the database is; it is opened on first use */
    if (st) {
        pthread_mutex_destroy(&ctx->lock);
        goto fail;
    }
    *out = ctx;
    return EFFGEN_OK;

fail:
    free(ctx);
    free(arch_text);
    return st;
}

void effgen_close(effgen_ctx *ctx) {
    if (!ctx) return;
    eg_rt_dispatch_free(ctx);
    const eg_rt_cuda *cu = NULL;
    if (ctx->device_ready && eg_rt_cuda_load(&cu) == EFFGEN_OK) {
        /* modules belong to the primary context, which must be current to unload them */
        if (cu->cuCtxPushCurrent(ctx->primary) == 0) {
            for (eg_rt_kernel *k = ctx->kernels; k; k = k->next)
                if (k->module) cu->cuModuleUnload(k->module);
            if (ctx->tile_counters) cu->cuMemFree(ctx->tile_counters);
            CUcontext popped;
            cu->cuCtxPopCurrent(&popped);
        }
        cu->cuDevicePrimaryCtxRelease(ctx->dev);
    }
    for (eg_rt_kernel *k = ctx->kernels, *next; k; k = next) {
        next = k->next;
        eg_expr_free(k->own_expr[0]);
        eg_expr_free(k->own_expr[1]);
        free(k);
    }
    eg_rt_exprs_free(ctx);
    pthread_mutex_destroy(&ctx->lock);
    free((char *)ctx->opt.arch);
    free(ctx);
}

void eg_rt_log(const effgen_ctx *ctx, const char *fmt, ...) {
    if (!ctx || !ctx->log) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* one stdio call per line: stdio locks the stream per call, so lines of concurrent threads stay whole */
    fprintf(stderr, "effgen: %s\n", line);
}

int eg_rt_default_arch(int cc_major, int cc_minor) {
    int arch = cc_major * 10 + cc_minor;
    /* compute capability 9.0 has an arch-specific target of its own: sm_90a's wgmma serves the specs the
     * wg family implements, and every other spec compiles for sm_90a as well as for sm_90 */
    return arch == 90 ? EG_ARCH_SM90A : arch;
}

/* Read one device attribute into *v; returns the translated status. */
static effgen_status attr(const eg_rt_cuda *cu, CUdevice dev, int which, const char *name, int *v) {
    return eg_rt_cu(cu->cuDeviceGetAttribute(v, which, dev), name);
}

effgen_status eg_rt_device(effgen_ctx *ctx, const eg_rt_cuda **cu_out) {
    if (!ctx) return eg_err(EFFGEN_INVALID_ARGUMENT, "ctx=NULL: open a context with effgen_open");
    if (ctx->opt.no_gpu)
        return eg_err(EFFGEN_NO_DEVICE,
                      "the context was opened with no_gpu=1, so the GPU is not used; generation and compilation "
                      "still work");
    const eg_rt_cuda *cu = NULL;
    effgen_status st = eg_rt_cuda_load(&cu);
    if (st) return st;

    pthread_mutex_lock(&ctx->lock);
    if (ctx->device_ready) goto done;
    int count = 0;
    st = eg_rt_cu(cu->cuDeviceGetCount(&count), "cuDeviceGetCount");
    if (st) goto done;
    if (count == 0) {
        st = eg_err(EFFGEN_NO_DEVICE, "no CUDA device present (the driver reports 0 devices); generation and "
                                      "compilation still work");
        goto done;
    }
    if (ctx->opt.device >= count) {
        st = eg_err(EFFGEN_NO_DEVICE, "device=%d: no such device; %d device%s present (ordinals 0 to %d)",
                    ctx->opt.device, count, count == 1 ? " is" : "s are", count - 1);
        goto done;
    }
    CUdevice dev = 0;
    st = eg_rt_cu(cu->cuDeviceGet(&dev, ctx->opt.device), "cuDeviceGet");
    if (st) goto done;
    eg_rt_device_info info;
    memset(&info, 0, sizeof info);
    st = eg_rt_cu(cu->cuDeviceGetName(info.name, (int)sizeof info.name, dev), "cuDeviceGetName");
    if (!st) st = attr(cu, dev, EG_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, "compute capability", &info.cc_major);
    if (!st) st = attr(cu, dev, EG_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, "compute capability", &info.cc_minor);
    if (!st) st = attr(cu, dev, EG_CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, "multiprocessor count", &info.sm_count);
    if (!st) st = attr(cu, dev, EG_CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, "L2 cache size", &info.l2_bytes);
    if (!st)
        st = attr(cu, dev, EG_CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, "shared memory opt-in",
                  &info.smem_optin);
    if (!st) st = eg_rt_cu(cu->cuDriverGetVersion(&info.driver_version), "cuDriverGetVersion");
    if (st) goto done;
    info.name[sizeof info.name - 1] = 0;

    int dev_arch = info.cc_major * 10 + info.cc_minor;
    if (!ctx->opt.arch) {
        char text[16];
        int parsed = 0;
        eg_arch_print(dev_arch, text, sizeof text);
        if (eg_arch_parse(text, &parsed) != EFFGEN_OK) {
            st = eg_err(EFFGEN_UNSUPPORTED,
                        "device %d (%s) is sm_%d (compute capability %d.%d), which effgen does not support; "
                        "supported: %s",
                        ctx->opt.device, info.name, dev_arch, info.cc_major, info.cc_minor, eg_arch_list());
            goto done;
        }
    }
    CUcontext primary = NULL;
    st = eg_rt_cu(cu->cuDevicePrimaryCtxRetain(&primary, dev), "cuDevicePrimaryCtxRetain");
    if (st) goto done;
    ctx->dev = dev;
    ctx->primary = primary;
    ctx->info = info;
    if (!ctx->opt.arch) ctx->arch = eg_rt_default_arch(info.cc_major, info.cc_minor);
    ctx->device_ready = 1;
    char target[16];
    eg_arch_print(ctx->arch, target, sizeof target);
    eg_rt_log(ctx, "device %d: %s, sm_%d, %d SMs, L2 %d KB, shared memory opt-in %d bytes, driver %d.%d; "
                   "compiling for %s",
              ctx->opt.device, info.name, dev_arch, info.sm_count, info.l2_bytes / 1024, info.smem_optin,
              info.driver_version / 1000, info.driver_version % 1000 / 10, target);

done:
    pthread_mutex_unlock(&ctx->lock);
    if (!st && cu_out) *cu_out = cu;
    return st;
}

effgen_status eg_rt_push(effgen_ctx *ctx) {
    if (!ctx || !ctx->device_ready)
        return eg_err(EFFGEN_INTERNAL, "eg_rt_push: the device is not initialised (call eg_rt_device first)");
    const eg_rt_cuda *cu = NULL;
    effgen_status st = eg_rt_cuda_load(&cu);
    if (st) return st;
    return eg_rt_cu(cu->cuCtxPushCurrent(ctx->primary), "cuCtxPushCurrent");
}

void eg_rt_pop(effgen_ctx *ctx) {
    const eg_rt_cuda *cu = NULL;
    if (!ctx || !ctx->device_ready || eg_rt_cuda_load(&cu) != EFFGEN_OK) return;
    CUcontext popped;
    cu->cuCtxPopCurrent(&popped);
}

/* Caller holds ctx->lock. A key names expressions by hash only: their texts must agree too. */
static eg_rt_kernel *find_kernel(effgen_ctx *ctx, const char *key, const eg_spec *s) {
    for (eg_rt_kernel *k = ctx->kernels; k; k = k->next)
        if (strcmp(k->key, key) == 0 && eg_spec_same_exprs(&k->spec, s)) return k;
    return NULL;
}

/* A cubin runs on devices of the same major version with an equal or higher minor version; one for an
 * arch-specific target (sm_90a) only on exactly that compute capability. */
static int cubin_runs_on(int arch, const eg_rt_device_info *d) {
    int base = eg_arch_base(arch);
    if (eg_arch_is_feature(arch)) return base / 10 == d->cc_major && base % 10 == d->cc_minor;
    return base / 10 == d->cc_major && base % 10 <= d->cc_minor;
}

/* Load a cubin into the current context and prepare its entry point for a launch with smem bytes of
 * dynamic shared memory. On failure nothing stays loaded. */
static effgen_status load_module(const eg_rt_cuda *cu, const void *cubin, int smem, CUmodule *mod_out,
                                 CUfunction *fn_out, int *regs) {
    CUmodule mod = NULL;
    CUfunction fn = NULL;
    effgen_status st = eg_rt_cu(cu->cuModuleLoadData(&mod, cubin), "cuModuleLoadData");
    if (st) {
        mod = NULL;
        goto done;
    }
    st = eg_rt_cu(cu->cuModuleGetFunction(&fn, mod, EG_KERNEL_NAME), "cuModuleGetFunction(" EG_KERNEL_NAME ")");
    if (st) goto done;
    /* above 48 KB the launch fails unless the function has opted in to the larger carve-out */
    st = eg_rt_cu(cu->cuFuncSetAttribute(fn, EG_CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, smem),
                  "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)");
    if (st) goto done;
    st = eg_rt_cu(cu->cuFuncGetAttribute(regs, EG_CU_FUNC_ATTRIBUTE_NUM_REGS, fn), "cuFuncGetAttribute(NUM_REGS)");
    if (st) goto done;
    *mod_out = mod;
    *fn_out = fn;
    mod = NULL;

done:
    if (mod) cu->cuModuleUnload(mod);
    return st;
}

static void kernel_key(const eg_spec *s, const eg_config *c, char *key, size_t size) {
    char sk[EG_KEY_MAX], ck[EG_KEY_MAX];
    eg_spec_print(s, sk, sizeof sk);
    eg_config_print(c, ck, sizeof ck);
    snprintf(key, size, "%s %s", sk, ck);
}

const eg_rt_kernel *eg_rt_kernel_cached(effgen_ctx *ctx, const eg_spec *s, const eg_config *c) {
    char key[2 * EG_KEY_MAX];
    kernel_key(s, c, key, sizeof key);
    pthread_mutex_lock(&ctx->lock);
    eg_rt_kernel *hit = find_kernel(ctx, key, s);
    pthread_mutex_unlock(&ctx->lock);
    return hit;
}

effgen_status eg_rt_kernel_add(effgen_ctx *ctx, const eg_spec *s, const eg_config *c, const eg_rt_cubin *cb,
                               const eg_rt_kernel **out, int *raced) {
    char key[2 * EG_KEY_MAX];
    kernel_key(s, c, key, sizeof key);
    if (raced) *raced = 0;
    if (!cb->data || cb->size == 0) return eg_err(EFFGEN_INVALID_ARGUMENT, "%s: empty cubin", key);
    if (!ctx->device_ready)
        return eg_err(EFFGEN_INTERNAL, "%s: the device is not initialised (call eg_rt_device first)", key);
    const eg_rt_device_info *d = &ctx->info;
    if (!cubin_runs_on(s->arch, d)) {
        char an[16];
        eg_arch_print(s->arch, an, sizeof an);
        return eg_err(EFFGEN_UNSUPPORTED,
                      "%s: a cubin for %s cannot run on device %d (%s, compute capability %d.%d); open the "
                      "context without an arch or with sm_%d%d",
                      key, an, ctx->opt.device, d->name, d->cc_major, d->cc_minor, d->cc_major, d->cc_minor);
    }
    eg_cost cost;
    eg_model_cost(s, c, &cost);
    if (cost.smem_bytes > d->smem_optin)
        return eg_err(EFFGEN_RESOURCES, "%s: needs %d bytes of shared memory per block; device %d (%s) allows %d",
                      key, cost.smem_bytes, ctx->opt.device, d->name, d->smem_optin);
    const eg_rt_cuda *cu = NULL;
    effgen_status st = eg_rt_cuda_load(&cu);
    if (st) return st;
    CUmodule mod = NULL;
    CUfunction fn = NULL;
    int regs = 0;
    eg_rt_kernel *nk = NULL;
    st = load_module(cu, cb->data, cost.smem_bytes, &mod, &fn, &regs);
    if (st) {
        eg_err_wrap(st, "%s", key);
        goto done;
    }
    nk = calloc(1, sizeof *nk);
    if (!nk) {
        st = eg_err(EFFGEN_NO_MEMORY, "%s: out of memory", key);
        goto done;
    }
    snprintf(nk->key, sizeof nk->key, "%s", key);
    nk->module = mod;
    nk->fn = fn;
    nk->spec = *s;
    /* the caller's expressions may not outlive the module: the entry keeps copies */
    if ((st = eg_rt_spec_own(&nk->spec, nk->own_expr))) goto done;
    nk->config = *c;
    nk->smem_bytes = cost.smem_bytes;
    nk->threads = cost.threads;
    nk->registers = regs > 0 ? regs : cb->registers;
    nk->spill_bytes = cb->spill_bytes;
    nk->stack_bytes = cb->stack_bytes;
    nk->compile_ms = cb->compile_ms;

    pthread_mutex_lock(&ctx->lock);
    eg_rt_kernel *hit = find_kernel(ctx, key, s);
    if (!hit) {
        nk->next = ctx->kernels;
        ctx->kernels = nk;
        hit = nk;
        nk = NULL;
        mod = NULL;
    }
    pthread_mutex_unlock(&ctx->lock);
    if (mod && raced) *raced = 1; /* another thread loaded the same key meanwhile: use theirs */
    *out = hit;

done:
    if (mod) cu->cuModuleUnload(mod);
    if (nk) {
        eg_expr_free(nk->own_expr[0]);
        eg_expr_free(nk->own_expr[1]);
    }
    free(nk);
    return st;
}

effgen_status eg_rt_kernel_get(effgen_ctx *ctx, const eg_spec *s, const eg_config *c, const eg_rt_kernel **out) {
    if (!ctx || !s || !c || !out) return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_rt_kernel_get: NULL argument");
    if (!ctx->device_ready)
        return eg_err(EFFGEN_INTERNAL, "eg_rt_kernel_get: the device is not initialised (call eg_rt_device first)");
    /* the cost model divides by the config's fields: only valid ones go further */
    effgen_status st = eg_spec_validate(s);
    if (!st) st = eg_config_validate(c, s);
    if (st) return st;
    char key[2 * EG_KEY_MAX];
    kernel_key(s, c, key, sizeof key);
    const eg_rt_kernel *hit = eg_rt_kernel_cached(ctx, s, c);
    if (hit) {
        eg_rt_log(ctx, "%s: reused module", key);
        *out = hit;
        return EFFGEN_OK;
    }
    eg_rt_cubin cb;
    memset(&cb, 0, sizeof cb);
    /* compile outside the lock: other threads keep serving and compiling other kernels meanwhile */
    st = eg_rt_compile(s, c, s->arch, &cb);
    int raced = 0;
    if (!st) st = eg_rt_kernel_add(ctx, s, c, &cb, &hit, &raced);
    if (!st && raced)
        eg_rt_log(ctx, "%s: compiled in %.1f ms, but another thread loaded it first; reused module", key,
                  cb.compile_ms);
    else if (!st)
        eg_rt_log(ctx, "%s: compiled in %.1f ms (%d registers, %d bytes spilled, %d bytes stack), loaded module with "
                       "%d bytes of shared memory",
                  key, cb.compile_ms, hit->registers, hit->spill_bytes, hit->stack_bytes, hit->smem_bytes);
    if (!st) *out = hit;
    eg_rt_cubin_free(&cb);
    return st;
}

effgen_status eg_rt_tile_counter(effgen_ctx *ctx, CUstream stream, CUdeviceptr *out) {
    *out = 0;
    if (stream == (CUstream)(uintptr_t)0x2) return EFFGEN_OK; /* CU_STREAM_PER_THREAD */
    if (stream == (CUstream)(uintptr_t)0x1) stream = NULL;    /* CU_STREAM_LEGACY: the NULL stream */
    const eg_rt_cuda *cu;
    effgen_status st = eg_rt_cuda_load(&cu);
    if (st) return st;
    if (cu->cuStreamIsCapturing) {
        int capture = 0;
        /* an error (e.g. the legacy stream queried during a capture elsewhere) counts as capturing */
        if (cu->cuStreamIsCapturing(stream, &capture) != 0 || capture != 0) return EFFGEN_OK;
    }
    pthread_mutex_lock(&ctx->lock);
    if (!ctx->tile_counters) {
        CUdeviceptr d = 0;
        CUresult r = cu->cuMemAlloc(&d, (size_t)EG_RT_STREAMS * EG_RT_COUNTER_STRIDE);
        if (r == 0) r = cu->cuMemsetD8(d, 0, (size_t)EG_RT_STREAMS * EG_RT_COUNTER_STRIDE);
        /* the zeros must be in place before a kernel on any stream, blocking or not */
        if (r == 0) r = cu->cuCtxSynchronize();
        if (r) {
            if (d) cu->cuMemFree(d);
            pthread_mutex_unlock(&ctx->lock);
            return eg_rt_cu(r, "tile counters of the persistent grid");
        }
        ctx->tile_counters = d;
    }
    int i = 0;
    while (i < ctx->counter_streams && ctx->counter_stream[i] != stream) i++;
    if (i == ctx->counter_streams && i < EG_RT_STREAMS) ctx->counter_stream[ctx->counter_streams++] = stream;
    if (i < EG_RT_STREAMS) *out = ctx->tile_counters + (CUdeviceptr)i * EG_RT_COUNTER_STRIDE;
    pthread_mutex_unlock(&ctx->lock);
    return EFFGEN_OK;
}

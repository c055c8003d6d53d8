/* A stand-in for libcuda.so.1 used by PanamaCudaDriverStubTest: it checks that every downcall
 * descriptor and argument passing of PanamaCudaDriver is right, on machines without a GPU.
 * "Device" memory is malloc'd host memory; codes follow the real CUresult values. */
#include <stdlib.h>
#include <string.h>

typedef unsigned long long u64;
static u64 last_launch[4];

int cuInit(unsigned flags) { return flags == 0 ? 0 : 1; }
int cuDeviceGetCount(int* n) { *n = 2; return 0; }
int cuDeviceGet(int* d, int ordinal) { *d = 100 + ordinal; return ordinal < 2 ? 0 : 101; }
int cuDeviceGetName(char* name, int len, int dev) { strncpy(name, dev == 100 ? "Stub GPU zero" : "Stub GPU", len); return 0; }
int cuDeviceGetAttribute(int* v, int attr, int dev) { *v = attr == 75 ? 9 : attr == 76 ? 0 : attr == 16 ? 132 : -1; return 0; }
int cuDeviceTotalMem_v2(size_t* b, int dev) { *b = (size_t) 80 << 30; return 0; }
int cuDevicePrimaryCtxRetain(void** c, int dev) { *c = (void*) 0x1234; return 0; }
int cuDevicePrimaryCtxRelease_v2(int dev) { return dev == 100 ? 0 : 1; }
int cuCtxSetCurrent(void* c) { return c == (void*) 0x1234 ? 0 : 201; }
int cuCtxGetCurrent(void** c) { *c = (void*) 0x1234; return 0; }
int cuCtxGetDevice(int* d) { *d = 1; return 0; }
int cuModuleLoadData(void** m, const void* image) { *m = (void*) 0x77; return memcmp(image, "FATB", 4) == 0 ? 0 : 200; }
int cuModuleGetFunction(void** f, void* m, const char* name) { *f = (void*) strlen(name); return strncmp(name, "amalgam_", 8) == 0 ? 0 : 500; }
int cuModuleUnload(void* m) { return 0; }
int cuMemAlloc_v2(u64* p, size_t bytes) { if (bytes == 12345) return 2; *p = (u64) malloc(bytes); return 0; }
int cuMemFree_v2(u64 p) { free((void*) p); return 0; }
int cuMemAllocHost_v2(void** p, size_t bytes) { *p = malloc(bytes); return 0; }
int cuMemFreeHost(void* p) { free(p); return 0; }
int cuMemcpyHtoDAsync_v2(u64 dst, const void* src, size_t n, void* s) { memcpy((void*) dst, src, n); return 0; }
int cuMemcpyDtoHAsync_v2(void* dst, u64 src, size_t n, void* s) { memcpy(dst, (void*) src, n); return 0; }
int cuMemcpyDtoDAsync_v2(u64 dst, u64 src, size_t n, void* s) { memcpy((void*) dst, (void*) src, n); return 0; }
/* CONTEXT (1) writes a pointer, RANGE_START (11) a CUdeviceptr, MEMORY_TYPE (2) an unsigned int. */
int cuPointerGetAttribute(void* data, int attr, u64 ptr) {
    if (ptr == 0) return 1;
    if (attr == 1) { *(void**) data = (void*) 0x1234; return 0; }
    if (attr == 11) { *(u64*) data = ptr & ~(u64) 0xFF; return 0; }
    if (attr == 2) { *(unsigned*) data = 2; return 0; }
    return 1;
}
int cuMemsetD8Async(u64 dst, unsigned char v, size_t n, void* s) { memset((void*) dst, v, n); return 0; }
int cuStreamCreate(void** s, unsigned flags) { *s = (void*) (u64) (0x500 + flags); return 0; }
int cuStreamDestroy_v2(void* s) { return 0; }
int cuStreamSynchronize(void* s) { return 0; }
int cuStreamWaitEvent(void* s, void* e, unsigned flags) { return flags == 0 && e != 0 ? 0 : 1; }
int cuEventCreate(void** e, unsigned flags) { *e = (void*) (u64) (0x600 + flags); return 0; }
int cuEventRecord(void* e, void* s) { return 0; }
int cuEventSynchronize(void* e) { return 0; }
int cuEventElapsedTime(float* ms, void* a, void* b) { *ms = 2.5f; return 0; }
int cuEventDestroy_v2(void* e) { return 0; }
int cuLaunchKernel(void* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                   unsigned smem, void* stream, void** params, void** extra) {
    if (extra != 0 || params == 0) return 1;
    last_launch[0] = (u64) gx * 1000 + bx;
    last_launch[1] = smem;
    memcpy(&last_launch[2], params[0], 16);  /* the first 16 bytes of the argument struct */
    return gx == 0 ? 1 : 0;
}
int cuMemGetInfo_v2(size_t* f, size_t* t) { *f = (size_t) 79 << 30; *t = (size_t) 80 << 30; return 0; }
int cuGetErrorName(int r, const char** s) {
    switch (r) { case 1: *s = "CUDA_ERROR_INVALID_VALUE"; return 0; case 2: *s = "CUDA_ERROR_OUT_OF_MEMORY"; return 0; }
    *s = 0; return 1;
}
int cuGetErrorString(int r, const char** s) {
    switch (r) { case 1: *s = "invalid argument"; return 0; case 2: *s = "out of memory"; return 0; }
    *s = 0; return 1;
}
u64* stub_last_launch(void) { return last_launch; }

// The single translation unit nvcc compiles into amalgam.fatbin (one module, one cuModuleLoadData).
// Each kernel family lives in its own file; they are included here so that the fatbin needs no
// device linking.
#include "magnitude_select.cu"
#include "reductions.cu"
#include "gta.cu"
#include "linear.cu"
#include "svd.cu"

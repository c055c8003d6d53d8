/**
 * For applications that already hold JCuda pointers: {@link dev.amalgam.cuda.jcuda.JCudaAdapter}
 * runs Amalgam's device passes on them. JCuda is an optional dependency the application brings.
 */
package dev.amalgam.cuda.jcuda;

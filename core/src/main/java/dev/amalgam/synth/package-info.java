/**
 * Synthetic checkpoint families (a base and fine-tunes) for examples, tests and benchmarks.
 */
package dev.amalgam.synth;

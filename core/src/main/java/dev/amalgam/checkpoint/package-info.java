/**
 * Checkpoints from anywhere: the {@link dev.amalgam.checkpoint.Checkpoint} interface every merge
 * reads (a model folder, tensors in memory, decorators), and
 * {@link dev.amalgam.checkpoint.CheckpointSink}s for in-memory outputs.
 */
package dev.amalgam.checkpoint;

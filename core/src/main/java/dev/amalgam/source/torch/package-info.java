/**
 * PyTorch checkpoints ({@code pytorch_model.bin}, sharded {@code pytorch_model.bin.index.json}) read
 * without executing code: a stored-zip reader ({@link dev.amalgam.source.torch.StoredZip}), a restricted
 * unpickler that interprets only the tensor-rebuild globals, and zero-copy tensor views
 * ({@link dev.amalgam.source.torch.TorchCheckpoint}).
 */
package dev.amalgam.source.torch;

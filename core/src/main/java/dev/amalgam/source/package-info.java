/**
 * Where a merge's weights come from besides a safetensors folder: hub ids resolved in the
 * Hugging Face cache ({@link dev.amalgam.source.hub}), LoRA adapters applied on the fly
 * ({@link dev.amalgam.source.lora}), PyTorch checkpoints read without executing code
 * ({@link dev.amalgam.source.torch}), and merged tokenizers ({@link dev.amalgam.source.tokenizer}).
 * {@link dev.amalgam.source.ModelSources} opens any of them as a
 * {@link dev.amalgam.checkpoint.Checkpoint}.
 */
package dev.amalgam.source;

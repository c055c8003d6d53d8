/**
 * LoRA adapters as merge inputs (spec §16.4, {@code model: FOLDER+ADAPTER}): a PEFT adapter
 * ({@link dev.amalgam.source.lora.LoraAdapter}) applied per tensor on the fly as a checkpoint decorator
 * ({@link dev.amalgam.source.lora.LoraCheckpoint}), W' = W + s·B·A in float32
 * ({@link dev.amalgam.source.lora.LoraProduct}: reference and vectorized, equal bit for bit).
 */
package dev.amalgam.source.lora;

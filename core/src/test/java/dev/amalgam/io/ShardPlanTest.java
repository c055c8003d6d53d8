package dev.amalgam.io;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ShardPlanTest {

    private static TensorInfo u8(String name, long bytes) {
        return new TensorInfo(name, DType.U8, new long[]{bytes});
    }

    private static List<List<String>> names(ShardPlan p) {
        return p.shards().stream().map(s -> s.tensors().stream().map(TensorInfo::name).toList()).toList();
    }

    @Test
    void greedyInOrderUpToTheLimit() {
        ShardPlan p = ShardPlan.of(List.of(u8("a", 40), u8("b", 60), u8("c", 1), u8("d", 99), u8("e", 100)), 100);
        assertEquals(List.of(List.of("a", "b"), List.of("c", "d"), List.of("e")), names(p));
        assertEquals(List.of(100L, 100L, 100L), p.shards().stream().map(ShardPlan.Shard::dataBytes).toList());
        assertEquals(300, p.totalSize());
        assertEquals(List.of("model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                "model-00003-of-00003.safetensors"), p.shards().stream().map(ShardPlan.Shard::fileName).toList());
        assertTrue(p.isSharded());
    }

    @Test
    void aTensorLargerThanTheLimitGetsItsOwnShard() {
        ShardPlan p = ShardPlan.of(List.of(u8("a", 30), u8("huge", 250), u8("b", 30), u8("c", 30)), 100);
        assertEquals(List.of(List.of("a"), List.of("huge"), List.of("b", "c")), names(p));
    }

    @Test
    void emptyTensorsNeverOpenAShard() {
        ShardPlan p = ShardPlan.of(List.of(u8("a", 100), u8("empty", 0), u8("b", 1)), 100);
        assertEquals(List.of(List.of("a", "empty"), List.of("b")), names(p));
    }

    @Test
    void oneShardIsModelSafetensors() {
        ShardPlan p = ShardPlan.of(List.of(u8("a", 10), u8("b", 20)), ShardPlan.DEFAULT_MAX_SHARD_SIZE);
        assertEquals(1, p.shards().size());
        assertEquals("model.safetensors", p.shards().getFirst().fileName());
        assertFalse(p.isSharded());
        assertEquals(5_000_000_000L, ShardPlan.DEFAULT_MAX_SHARD_SIZE);
        assertEquals("model.safetensors", ShardPlan.of(List.of(), 1).shards().getFirst().fileName());
    }

    @Test
    void sizesCountDtypeBytes() {
        TensorInfo f32 = new TensorInfo("w", DType.F32, new long[]{10, 10}); // 400 bytes
        ShardPlan p = ShardPlan.of(List.of(f32, u8("x", 1)), 400);
        assertEquals(List.of(List.of("w"), List.of("x")), names(p));
    }

    @Test
    void fileNamesAreHuggingFaceStyle() {
        assertEquals("model-00007-of-00012.safetensors", ShardPlan.shardFileName(7, 12));
        assertEquals("model-123456-of-123456.safetensors", ShardPlan.shardFileName(123456, 123456));
    }

    @Test
    void rejectsBadInput() {
        assertThrows(IllegalArgumentException.class, () -> ShardPlan.of(List.of(u8("a", 1)), 0));
        assertThrows(IllegalArgumentException.class, () -> ShardPlan.of(List.of(u8("a", 1), u8("a", 2)), 10));
    }
}

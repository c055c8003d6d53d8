package dev.amalgam.source.torch;

import dev.amalgam.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the {@code data.pkl} of a {@code torch.save} archive without executing anything: a
 * pickle virtual machine that knows only the opcodes a state dict's pickle uses and only the
 * globals PyTorch's tensor rebuild calls ({@code torch._utils._rebuild_tensor_v2},
 * {@code torch._utils._rebuild_parameter}, the {@code torch.*Storage} types,
 * {@code collections.OrderedDict}). Those globals are interpreted, not looked up: a rebuild
 * becomes a {@link TensorRef}, a storage a {@link StorageRef}. Any other global or opcode is
 * refused with an error naming it.
 *
 * <p>Implementation notes: the format follows CPython's {@code pickletools} opcode table and
 * {@code torch/serialization.py} ({@code _save}: {@code persistent_id} gives
 * {@code ('storage', StorageType, key, location, numel)}; {@code torch/_utils.py}:
 * {@code _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])}).
 * Not thread-safe; one instance per pickle.
 */
final class RestrictedUnpickler {

    /** A storage named by a persistent id: {@code data/<key>} of the archive. */
    record StorageRef(DType dtype, String key, long numel) {
    }

    /** A rebuilt tensor: a strided view of a storage, in elements. */
    record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {
    }

    /** A global the pickle named and that is allowed. */
    private record Global(String module, String name) {
        String qualified() {
            return module + "." + name;
        }
    }

    private record Tuple(List<Object> items) {
    }

    private static final Object MARK = new Object() {
        @Override
        public String toString() {
            return "MARK";
        }
    };
    private static final Object NONE = new Object() {
        @Override
        public String toString() {
            return "None";
        }
    };

    /** The storage classes torch.save names, by their dtype. */
    static final Map<String, DType> STORAGE_TYPES = Map.ofEntries(
            Map.entry("FloatStorage", DType.F32), Map.entry("HalfStorage", DType.F16),
            Map.entry("BFloat16Storage", DType.BF16), Map.entry("DoubleStorage", DType.F64),
            Map.entry("LongStorage", DType.I64), Map.entry("IntStorage", DType.I32),
            Map.entry("ShortStorage", DType.I16), Map.entry("CharStorage", DType.I8),
            Map.entry("ByteStorage", DType.U8), Map.entry("BoolStorage", DType.BOOL));

    private static final String REBUILD_TENSOR = "torch._utils._rebuild_tensor_v2";
    private static final String REBUILD_PARAMETER = "torch._utils._rebuild_parameter";
    private static final String ORDERED_DICT = "collections.OrderedDict";
    private static final int MAX_STACK = 1 << 20;

    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64_BE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private final MemorySegment data;
    private final String where;
    private long pos;
    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();

    private RestrictedUnpickler(MemorySegment data, String where) {
        this.data = data;
        this.where = where;
    }

    /**
     * Unpickles a state dict.
     *
     * @param pickle the bytes of {@code data.pkl}
     * @param where  names the entry in messages
     * @return tensor name to tensor, in pickle order
     * @throws TorchFormatException for a refused opcode or global, damaged bytes, or a pickle
     *                              that is not a mapping of names to tensors
     */
    static Map<String, TensorRef> stateDict(MemorySegment pickle, String where) throws TorchFormatException {
        Object root = new RestrictedUnpickler(pickle, where).run();
        if (!(root instanceof Map<?, ?> map)) {
            throw new TorchFormatException(where + ": the pickle is not a state dict (a mapping of names to tensors)");
        }
        Map<String, TensorRef> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getKey() instanceof String name)) {
                throw new TorchFormatException(where + ": a state dict key is not a string: " + show(e.getKey()));
            }
            if (!(e.getValue() instanceof TensorRef t)) {
                throw new TorchFormatException(where + ": entry '" + name + "' is not a tensor but " + show(e.getValue())
                        + " (nested checkpoints such as {'state_dict': ...} are not read; save the state dict itself)");
            }
            out.put(name, t);
        }
        return out;
    }

    private Object run() throws TorchFormatException {
        while (true) {
            if (pos >= data.byteSize()) throw fail("truncated pickle: no STOP opcode");
            long at = pos;
            int op = u8();
            switch (op) {
                case 0x80 -> u8(); // PROTO
                case 0x95 -> bytes(8); // FRAME: a length hint only
                case '.' -> {
                    if (stack.size() != 1 || !marks.isEmpty()) throw fail("damaged pickle: STOP with " + stack.size() + " values");
                    return stack.getFirst();
                }
                case '(' -> {
                    marks.add(stack.size());
                    if (marks.size() > MAX_STACK) throw fail("damaged pickle: too many marks");
                }
                case '}' -> push(new LinkedHashMap<Object, Object>());
                case ']' -> push(new ArrayList<Object>());
                case ')' -> push(new Tuple(List.of()));
                case 't' -> push(new Tuple(popMark()));
                case 0x85 -> push(new Tuple(popN(1)));
                case 0x86 -> push(new Tuple(popN(2)));
                case 0x87 -> push(new Tuple(popN(3)));
                case 'X' -> push(string(u32()));
                case 0x8c -> push(string(u8()));
                case 0x8d -> push(string(s64()));
                case 'T' -> push(string(u32()));
                case 'U' -> push(string(u8()));
                case 'J' -> push((long) (int) u32());
                case 'K' -> push((long) u8());
                case 'M' -> push((long) u16());
                case 0x8a -> push(long1());
                case 'G' -> {
                    if (data.byteSize() - pos < 8) throw fail("truncated pickle");
                    push(data.get(F64_BE, pos));
                    pos += 8;
                }
                case 'N' -> push(NONE);
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'c' -> push(global(line(), line()));
                case 0x93 -> {
                    Object name = pop(), module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) throw fail("STACK_GLOBAL of non-strings");
                    push(global(m, n));
                }
                case 'Q' -> push(persistent(pop()));
                case 'R' -> {
                    Object args = pop(), callable = pop();
                    push(reduce(callable, args));
                }
                case 'b' -> {
                    Object state = pop();
                    Object target = peek();
                    // OrderedDict state ({'_metadata': ...}) and parameter state are attributes only.
                    if (!(target instanceof Map<?, ?>) && !(target instanceof TensorRef)) {
                        throw fail("BUILD on " + show(target) + " is not allowed");
                    }
                    if (state != NONE && !(state instanceof Map<?, ?>) && !(state instanceof Tuple)) {
                        throw fail("BUILD with state " + show(state) + " is not allowed");
                    }
                }
                case 's' -> {
                    Object v = pop(), k = pop();
                    dict(peek()).put(key(k), v);
                }
                case 'u' -> {
                    List<Object> items = popMark();
                    if (items.size() % 2 != 0) throw fail("damaged pickle: SETITEMS with an odd count");
                    Map<Object, Object> d = dict(peek());
                    for (int i = 0; i < items.size(); i += 2) d.put(key(items.get(i)), items.get(i + 1));
                }
                case 'a' -> {
                    Object v = pop();
                    list(peek()).add(v);
                }
                case 'e' -> {
                    List<Object> items = popMark();
                    list(peek()).addAll(items);
                }
                case 'q' -> memo.put((long) u8(), peek());
                case 'r' -> memo.put(u32(), peek());
                case 0x94 -> memo.put((long) memo.size(), peek());
                case 'h' -> push(memoGet(u8()));
                case 'j' -> push(memoGet(u32()));
                case '0' -> pop();
                default -> throw fail(String.format("pickle opcode 0x%02x at byte %d is not allowed (only the opcodes"
                        + " of a torch.save state dict are read)", op, at));
            }
        }
    }

    private Object global(String module, String name) throws TorchFormatException {
        Global g = new Global(module, name);
        String q = g.qualified();
        boolean storage = module.equals("torch") && STORAGE_TYPES.containsKey(name);
        if (!storage && !q.equals(REBUILD_TENSOR) && !q.equals(REBUILD_PARAMETER) && !q.equals(ORDERED_DICT)) {
            throw fail("refused global `" + q + "`: only torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter,"
                    + " collections.OrderedDict and torch.*Storage may appear in a checkpoint (nothing is executed)");
        }
        return g;
    }

    private Object persistent(Object pid) throws TorchFormatException {
        if (!(pid instanceof Tuple(List<Object> t)) || t.size() != 5 || !"storage".equals(t.get(0))
                || !(t.get(1) instanceof Global g) || !(t.get(2) instanceof String key) || !(t.get(4) instanceof Long numel)) {
            throw fail("persistent id " + show(pid) + " is not ('storage', StorageType, key, location, numel)");
        }
        DType dtype = g.module().equals("torch") ? STORAGE_TYPES.get(g.name()) : null;
        if (dtype == null) throw fail("persistent id names " + g.qualified() + ", not a storage type");
        if (numel < 0) throw fail("storage " + key + " has a negative size");
        return new StorageRef(dtype, key, numel);
    }

    private Object reduce(Object callable, Object args) throws TorchFormatException {
        if (!(callable instanceof Global g)) throw fail("REDUCE of " + show(callable) + " is not allowed");
        if (!(args instanceof Tuple(List<Object> a))) throw fail("REDUCE arguments are not a tuple");
        switch (g.qualified()) {
            case ORDERED_DICT -> {
                if (!a.isEmpty()) throw fail("collections.OrderedDict with arguments is not read");
                return new LinkedHashMap<Object, Object>();
            }
            case REBUILD_TENSOR -> {
                if (a.size() < 6 || a.size() > 7 || !(a.get(0) instanceof StorageRef s) || !(a.get(1) instanceof Long offset)
                        || !(a.get(2) instanceof Tuple(List<Object> size)) || !(a.get(3) instanceof Tuple(List<Object> stride))) {
                    throw fail(REBUILD_TENSOR + " with arguments " + show(args)
                            + " (expected storage, offset, size, stride, requires_grad, hooks)");
                }
                if (size.size() != stride.size()) throw fail(REBUILD_TENSOR + ": size and stride differ in rank");
                return new TensorRef(s, offset, longs(size), longs(stride));
            }
            case REBUILD_PARAMETER -> {
                if (a.size() != 3 || !(a.get(0) instanceof TensorRef t)) throw fail(REBUILD_PARAMETER + " of " + show(args));
                return t;
            }
            default -> throw fail("calling " + g.qualified() + " is not allowed");
        }
    }

    private long[] longs(List<Object> items) throws TorchFormatException {
        long[] out = new long[items.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(items.get(i) instanceof Long v) || v < 0) throw fail("tensor size or stride " + show(items.get(i)) + " is not a count");
            out[i] = v;
        }
        return out;
    }

    private Object key(Object k) throws TorchFormatException {
        if (k instanceof String || k instanceof Long || k instanceof Boolean || k instanceof Tuple || k == NONE) return k;
        throw fail("unhashable dict key " + show(k));
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object o) throws TorchFormatException {
        if (o instanceof Map<?, ?> m) return (Map<Object, Object>) m;
        throw fail("SETITEM on " + show(o));
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o) throws TorchFormatException {
        if (o instanceof ArrayList<?> l) return (List<Object>) l;
        throw fail("APPEND on " + show(o));
    }

    private Object memoGet(long key) throws TorchFormatException {
        Object o = memo.get(key);
        if (o == null) throw fail("damaged pickle: memo " + key + " is not set");
        return o;
    }

    private void push(Object o) throws TorchFormatException {
        if (stack.size() >= MAX_STACK) throw fail("damaged pickle: stack too deep");
        stack.add(o);
    }

    private Object pop() throws TorchFormatException {
        int floor = marks.isEmpty() ? 0 : marks.getLast();
        if (stack.size() <= floor) throw fail("damaged pickle: stack underflow");
        return stack.removeLast();
    }

    private Object peek() throws TorchFormatException {
        int floor = marks.isEmpty() ? 0 : marks.getLast();
        if (stack.size() <= floor) throw fail("damaged pickle: stack underflow");
        return stack.getLast();
    }

    private List<Object> popN(int n) throws TorchFormatException {
        Object[] items = new Object[n];
        for (int i = n - 1; i >= 0; i--) items[i] = pop();
        return List.of(items);
    }

    private List<Object> popMark() throws TorchFormatException {
        if (marks.isEmpty()) throw fail("damaged pickle: no MARK");
        int m = marks.removeLast();
        List<Object> items = new ArrayList<>(stack.subList(m, stack.size()));
        stack.subList(m, stack.size()).clear();
        return items;
    }


    private byte[] bytes(long n) throws TorchFormatException {
        if (n < 0 || n > data.byteSize() - pos) throw fail("truncated pickle");
        byte[] b = data.asSlice(pos, n).toArray(ValueLayout.JAVA_BYTE);
        pos += n;
        return b;
    }

    private int u8() throws TorchFormatException {
        if (pos >= data.byteSize()) throw fail("truncated pickle");
        return Byte.toUnsignedInt(data.get(ValueLayout.JAVA_BYTE, pos++));
    }

    private int u16() throws TorchFormatException {
        if (data.byteSize() - pos < 2) throw fail("truncated pickle");
        int v = Short.toUnsignedInt(data.get(I16, pos));
        pos += 2;
        return v;
    }

    private long u32() throws TorchFormatException {
        if (data.byteSize() - pos < 4) throw fail("truncated pickle");
        long v = Integer.toUnsignedLong(data.get(I32, pos));
        pos += 4;
        return v;
    }

    private long s64() throws TorchFormatException {
        if (data.byteSize() - pos < 8) throw fail("truncated pickle");
        long v = data.get(I64, pos);
        pos += 8;
        return v;
    }

    private Long long1() throws TorchFormatException {
        int n = u8();
        byte[] le = bytes(n);
        if (n == 0) return 0L;
        byte[] be = new byte[n];
        for (int i = 0; i < n; i++) be[i] = le[n - 1 - i];
        BigInteger v = new BigInteger(be);
        if (v.bitLength() > 63) throw fail("integer too large: " + v);
        return v.longValue();
    }

    private String string(long n) throws TorchFormatException {
        return new String(bytes(n), StandardCharsets.UTF_8);
    }

    private String line() throws TorchFormatException {
        long start = pos;
        while (true) {
            if (pos >= data.byteSize() || pos - start > 256) throw fail("damaged pickle: unterminated GLOBAL name");
            if (data.get(ValueLayout.JAVA_BYTE, pos) == '\n') break;
            pos++;
        }
        String s = new String(data.asSlice(start, pos - start).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        pos++;
        return s;
    }

    private TorchFormatException fail(String message) {
        return new TorchFormatException(where + ": " + message);
    }

    private static String show(Object o) {
        if (o instanceof Tuple(List<Object> items)) return "tuple of " + items.size();
        if (o instanceof Map<?, ?>) return "a dict";
        if (o instanceof List<?>) return "a list";
        if (o instanceof Global g) return g.qualified();
        if (o instanceof String s) return "'" + (s.length() > 40 ? s.substring(0, 40) + "…" : s) + "'";
        return String.valueOf(o);
    }
}

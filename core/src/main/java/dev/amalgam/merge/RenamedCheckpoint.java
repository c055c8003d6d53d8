package dev.amalgam.merge;

import dev.amalgam.checkpoint.Checkpoint;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * Some tensors of a checkpoint under other names, zero-copy: a {@code slices:} source seen with
 * the output's names (output layer o ← layer a+k), so every method reads a slice exactly like
 * {@code models:} inputs. Views carry the view name; closing does nothing (the underlying
 * checkpoint belongs to the merge).
 */
final class RenamedCheckpoint implements Checkpoint {

    private final Checkpoint of;
    private final Map<String, String> stored; // view name -> name in `of`
    private final List<TensorInfo> tensors;

    RenamedCheckpoint(Checkpoint of, Map<String, String> viewToStored) {
        this.of = of;
        this.stored = Map.copyOf(viewToStored);
        List<TensorInfo> all = new ArrayList<>(stored.size());
        stored.forEach((view, name) -> {
            TensorInfo i = of.info(name);
            all.add(new TensorInfo(view, i.dtype(), i.shape()));
        });
        all.sort(Comparator.comparing(TensorInfo::name));
        this.tensors = List.copyOf(all);
    }

    @Override
    public List<TensorInfo> tensors() {
        return tensors;
    }

    @Override
    public boolean contains(String name) {
        return stored.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        TensorInfo i = of.info(storedName(name));
        return new TensorInfo(name, i.dtype(), i.shape());
    }

    @Override
    public Tensor tensor(String name) {
        Tensor t = of.tensor(storedName(name));
        return new Tensor(new TensorInfo(name, t.dtype(), t.info().shape()), t.data());
    }

    @Override
    public Map<String, String> metadata() {
        return of.metadata();
    }

    private String storedName(String name) {
        String s = stored.get(name);
        if (s == null) throw new NoSuchElementException("no tensor '" + name + "' in this slice's view of " + of);
        return s;
    }
}

package dev.amalgam.benchmarks;

import dev.amalgam.kernel.KernelBackends;
import dev.amalgam.kernel.KernelProvider;
import java.util.ArrayList;
import java.util.List;

/**
 * Prints the usable kernel backends as a JMH parameter list ({@code cpu,reference}) on stdout and
 * the reason for each unusable one on stderr; {@code run.sh} benchmarks only those.
 */
public final class UsableBackends {

    private UsableBackends() {
    }

    public static void main(String[] args) {
        List<String> usable = new ArrayList<>();
        for (KernelProvider p : KernelBackends.providers()) {
            KernelProvider.Availability a = p.availability();
            if (a.usable()) usable.add(p.name());
            else System.err.println("skipping backend " + p.name() + ": " + a.reason());
        }
        System.out.println(String.join(",", usable));
    }
}

package dev.shardserve.node.lifecycle;

import dev.shardserve.protocol.ModelProtocol.VersionState;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * What a replica should do next to converge on its policy, as a pure function of what it wants,
 * what is on disk and what it holds, so that the rules are tested without TensorFlow:
 * <ul>
 *   <li><b>load</b> the newest wanted version that is neither loading nor loaded (or whose failed
 *       load may be retried); one load at a time;</li>
 *   <li><b>retire</b> a loaded version the policy no longer wants only once a wanted version is
 *       AVAILABLE (availability first: a new version that fails to load leaves the old one
 *       serving), and at once when its folder is gone or the model is no longer served;</li>
 *   <li><b>forget</b> versions that ended and whose folder is gone.</li>
 * </ul>
 */
public final class VersionPlan {

  /** What the replica holds of one version: its state, and whether a failed load may be retried now. */
  public record Held(VersionState state, boolean retryDue) {}

  public record Steps(Long load, SortedSet<Long> retire, SortedSet<Long> forget, SortedSet<Long> wanted) {}

  private VersionPlan() {}

  /**
   * @param wanted the versions the policy selects among the stable ones on disk (empty when the
   *     model is not served)
   * @param onDisk every version folder currently on disk, stable or not
   * @param held the versions this replica knows, by state
   * @param loading true while a load is in progress (then nothing new is loaded)
   */
  public static Steps plan(SortedSet<Long> wanted, SortedSet<Long> onDisk, Map<Long, Held> held, boolean loading) {
    Long load = null;
    if (!loading) {
      for (Long v : new TreeSet<>(wanted).descendingSet()) {
        Held h = held.get(v);
        if (h == null || h.state() == VersionState.START
            || (h.state() == VersionState.END && h.retryDue())) {
          load = v;
          break;
        }
      }
    }
    boolean wantedAvailable = false;
    for (Long v : wanted) {
      Held h = held.get(v);
      if (h != null && h.state() == VersionState.AVAILABLE) {
        wantedAvailable = true;
        break;
      }
    }
    SortedSet<Long> retire = new TreeSet<>();
    SortedSet<Long> forget = new TreeSet<>();
    for (Map.Entry<Long, Held> e : held.entrySet()) {
      long v = e.getKey();
      VersionState s = e.getValue().state();
      if (s == VersionState.AVAILABLE && !wanted.contains(v)
          && (wantedAvailable || !onDisk.contains(v))) {
        retire.add(v);
      } else if ((s == VersionState.END || s == VersionState.START) && !onDisk.contains(v)) {
        forget.add(v);
      }
    }
    return new Steps(load, retire, forget, wanted);
  }
}

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.StringJoiner;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.kstream.SessionWindowedSerializer;
import org.apache.kafka.streams.kstream.TimeWindowedSerializer;
import org.apache.kafka.streams.kstream.Window;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.kstream.internals.SessionWindow;
import org.apache.kafka.streams.kstream.internals.TimeWindow;
import org.apache.kafka.streams.kstream.internals.WindowedStreamPartitioner;

/**
 * Writes to the file given, as JSON, the partition Kafka Streams' WindowedStreamPartitioner
 * picks for the windows of each key below, for several partition counts. The keys stand for
 * the inner keys' bytes as streamrun's serdes write them: UTF-8 text (serdes.string) or JSON
 * text as JSON.stringify writes it (serdes.json). Every window of a key, time or session, gets
 * the same partition: this program checks that too, and fails if not.
 */
public class WindowedPartitions {
  private static final int[] COUNTS = {1, 2, 3, 4, 5, 7, 8, 12, 16, 31, 100};

  private static final List<String> STRING_KEYS = List.of(
      "", "a", "b", "c", "k", "key-0", "key-1", "key-2", "key-3", "key-4", "key-5", "key-6", "key-7",
      "sensor-1", "sensor-2", "sensor-3", "sensor-4", "sensor-5", "sensor-6",
      "müller", "日本語", "🚀 launch", "tab\there", "x".repeat(300));

  private static final List<String> JSON_KEYS = List.of(
      "{\"user\":42}", "[1,2,3]", "\"quoted\"", "17", "-3.5", "true", "{\"city\":\"Zürich\",\"id\":\"a-1\"}");

  private static final List<Window> TIME_WINDOWS = List.of(
      new TimeWindow(0, 10_000), new TimeWindow(1_800_000_000_000L, 1_800_000_060_000L));

  private static final List<Window> SESSIONS = List.of(new SessionWindow(5, 5), new SessionWindow(1_000, 90_000));

  public static void main(String[] args) throws Exception {
    var timed = new WindowedStreamPartitioner<String, Object>(new TimeWindowedSerializer<>(new StringSerializer()));
    var sessions = new WindowedStreamPartitioner<String, Object>(new SessionWindowedSerializer<>(new StringSerializer()));
    List<String> entries = new ArrayList<>();
    for (String key : STRING_KEYS) entries.add(entry("string", quote(key), partitions(key, timed, sessions)));
    for (String key : JSON_KEYS) entries.add(entry("json", key, partitions(key, timed, sessions)));
    Files.writeString(Path.of(args[0]), "[\n" + String.join(",\n", entries) + "\n]\n", StandardCharsets.UTF_8);
  }

  private static String partitions(
      String key, WindowedStreamPartitioner<String, Object> timed, WindowedStreamPartitioner<String, Object> sessions) {
    StringJoiner json = new StringJoiner(",", "{", "}");
    for (int count : COUNTS) {
      Integer partition = null;
      for (Window window : TIME_WINDOWS) partition = same(key, partition, partition(timed, key, window, count));
      for (Window window : SESSIONS) partition = same(key, partition, partition(sessions, key, window, count));
      json.add("\"" + count + "\":" + partition);
    }
    return json.toString();
  }

  private static int partition(WindowedStreamPartitioner<String, Object> partitioner, String key, Window window, int count) {
    Set<Integer> chosen = partitioner.partitions("output", new Windowed<>(key, window), null, new RecordHeaders(), count).orElseThrow();
    if (chosen.size() != 1) throw new IllegalStateException("not one partition for " + key + ": " + chosen);
    return chosen.iterator().next();
  }

  private static Integer same(String key, Integer before, int now) {
    if (before != null && before != now) throw new IllegalStateException("windows of " + key + " in partitions " + before + " and " + now);
    return now;
  }

  private static String entry(String serde, String key, String partitions) {
    return "  {\"serde\":\"" + serde + "\",\"key\":" + key + ",\"partitions\":" + partitions + "}";
  }

  private static String quote(String text) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : text.toCharArray()) {
      if (c == '"' || c == '\\') out.append('\\').append(c);
      else if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
      else out.append(c);
    }
    return out.append('"').toString();
  }
}

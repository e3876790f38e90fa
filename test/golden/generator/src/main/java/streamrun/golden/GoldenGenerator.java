package streamrun.golden;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.JoinWindows;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.SessionWindowedKStream;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.SlidingWindows;
import org.apache.kafka.streams.kstream.StreamJoined;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindowedKStream;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.ValueJoiner;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.SessionStore;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.test.TestRecord;

/**
 * Runs each case of test/golden/cases through Kafka Streams' TopologyTestDriver and writes what
 * the topology emitted, and after which input record, to test/golden/expected. The topologies
 * are the ones streamrun's golden test builds (test/unit/golden/topologies.ts), written with
 * Kafka Streams' own DSL: every value is a string on the wire, counts and sums included.
 */
public final class GoldenGenerator {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Serde<String> STRING = Serdes.String();

  public static void main(String[] args) throws IOException {
    Path cases = Path.of(args[0]);
    Path expected = Path.of(args[1]);
    Files.createDirectories(expected);
    List<Path> files;
    try (Stream<Path> listed = Files.list(cases)) {
      files = listed.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
    for (Path file : files) {
      JsonNode spec = JSON.readTree(file.toFile());
      // One emitted record a line, so a regenerated file diffs record by record.
      StringBuilder text = new StringBuilder("{\n  \"generatedBy\": \"Kafka Streams ")
          .append(System.getProperty("golden.kafka.version")).append(" TopologyTestDriver\",\n  \"output\": [");
      ArrayNode output = run(spec);
      for (int i = 0; i < output.size(); i++) text.append(i == 0 ? "\n    " : ",\n    ").append(output.get(i));
      text.append(output.isEmpty() ? "]\n}\n" : "\n  ]\n}\n");
      Files.writeString(expected.resolve(file.getFileName()), text);
      System.out.println("golden: " + file.getFileName());
    }
  }

  private static ArrayNode run(JsonNode spec) {
    StreamsBuilder builder = new StreamsBuilder();
    build(builder, spec.get("topology"));
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "golden");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    // streamrun has no record cache: every update goes downstream, as with a cache of 0 bytes.
    props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
    props.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
    props.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
    // streamrun passes unmatched left/outer join records on as stream time closes their windows,
    // without Kafka Streams' throttle of one pass per second of wall-clock time.
    props.put("__emit.interval.ms.kstreams.outer.join.spurious.results.fix__", 0L);
    ArrayNode output = JSON.createArrayNode();
    try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props)) {
      Map<String, TestInputTopic<String, String>> inputs = new HashMap<>();
      TestOutputTopic<String, String> out = driver.createOutputTopic("out", STRING.deserializer(), STRING.deserializer());
      int index = 0;
      for (JsonNode record : spec.get("input")) {
        String topic = record.get("topic").asText();
        TestInputTopic<String, String> in =
            inputs.computeIfAbsent(topic, t -> driver.createInputTopic(t, STRING.serializer(), STRING.serializer()));
        in.pipeInput(new TestRecord<>(text(record.get("key")), text(record.get("value")), null,
            Instant.ofEpochMilli(record.get("timestamp").asLong())));
        for (TestRecord<String, String> emitted : out.readRecordsToList()) {
          ObjectNode line = JSON.createObjectNode();
          line.put("after", index);
          JsonNode key = emitted.key() == null ? JSON.nullNode() : parseKey(emitted.key());
          line.set("key", key);
          line.put("value", emitted.value());
          line.put("timestamp", emitted.timestamp());
          output.add(line);
        }
        index++;
      }
    }
    return output;
  }

  private static void build(StreamsBuilder builder, JsonNode topology) {
    String kind = topology.get("kind").asText();
    switch (kind) {
      case "count" -> emit(grouped(builder, topology).count(Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("counts")
          .withValueSerde(Serdes.Long())).mapValues(String::valueOf));
      case "reduce-sum" -> emit(grouped(builder, topology).reduce(GoldenGenerator::sum, Materialized.as("sums")));
      case "aggregate-concat" -> emit(grouped(builder, topology).aggregate(() -> "", (k, v, agg) -> agg + v, Materialized.as("concat")));
      case "windowed-count" -> emitWindowed(topology, windowed(builder, topology)
          .count(Materialized.<String, Long, WindowStore<Bytes, byte[]>>as("counts").withValueSerde(Serdes.Long()))
          .mapValues(String::valueOf));
      case "windowed-reduce-sum" -> emitWindowed(topology, windowed(builder, topology).reduce(GoldenGenerator::sum, Materialized.as("sums")));
      case "windowed-aggregate-concat" -> emitWindowed(topology,
          windowed(builder, topology).aggregate(() -> "", (k, v, agg) -> agg + v, Materialized.as("concat")));
      case "session-count" -> emitWindowed(topology, sessions(builder, topology)
          .count(Materialized.<String, Long, SessionStore<Bytes, byte[]>>as("counts").withValueSerde(Serdes.Long()))
          .mapValues(v -> v == null ? null : String.valueOf(v)));
      case "session-reduce-sum" -> emitWindowed(topology, sessions(builder, topology).reduce(GoldenGenerator::sum, Materialized.as("sums")));
      case "session-aggregate-concat" -> emitWindowed(topology, sessions(builder, topology)
          .aggregate(() -> "", (k, v, agg) -> agg + v, (k, a, b) -> a + b, Materialized.as("concat")));
      case "sliding-count" -> emitWindowed(topology, slidingWindowed(builder, topology)
          .count(Materialized.<String, Long, WindowStore<Bytes, byte[]>>as("counts").withValueSerde(Serdes.Long()))
          .mapValues(String::valueOf));
      case "sliding-reduce-sum" -> emitWindowed(topology, slidingWindowed(builder, topology).reduce(GoldenGenerator::sum, Materialized.as("sums")));
      case "sliding-aggregate-concat" -> emitWindowed(topology,
          slidingWindowed(builder, topology).aggregate(() -> "", (k, v, agg) -> agg + v, Materialized.as("concat")));
      case "join", "left-join" -> {
        KTable<String, String> table = builder.table("table", Consumed.with(STRING, STRING), Materialized.as("table"));
        KStream<String, String> stream = builder.stream("in", Consumed.with(STRING, STRING));
        KStream<String, String> joined = kind.equals("join")
            ? stream.join(table, (v, t) -> v + "|" + t)
            : stream.leftJoin(table, (v, t) -> v + "|" + t);
        joined.to("out", Produced.with(STRING, STRING));
      }
      case "stream-join", "stream-left-join", "stream-outer-join" -> {
        // Kafka Streams lets a record without a value move the join's stream time before it drops
        // it; streamrun's stream sources skip it (README): the twin skips it too, as in grouped().
        KStream<String, String> left = builder.stream("left", Consumed.with(STRING, STRING)).filter((k, v) -> v != null);
        KStream<String, String> right = builder.stream("right", Consumed.with(STRING, STRING)).filter((k, v) -> v != null);
        JoinWindows windows = JoinWindows.ofTimeDifferenceAndGrace(
            Duration.ofMillis(topology.get("timeDifference").asLong()), Duration.ofMillis(topology.path("grace").asLong(0)));
        if (topology.has("before")) windows = windows.before(Duration.ofMillis(topology.get("before").asLong()));
        if (topology.has("after")) windows = windows.after(Duration.ofMillis(topology.get("after").asLong()));
        ValueJoiner<String, String, String> joiner = (l, r) -> l + "|" + r;
        StreamJoined<String, String, String> stores = StreamJoined.with(STRING, STRING, STRING);
        KStream<String, String> joined = switch (kind) {
          case "stream-join" -> left.join(right, joiner, windows, stores);
          case "stream-left-join" -> left.leftJoin(right, joiner, windows, stores);
          default -> left.outerJoin(right, joiner, windows, stores);
        };
        joined.to("out", Produced.with(STRING, STRING));
      }
      case "table-join", "table-left-join", "table-outer-join" -> {
        KTable<String, String> left = builder.table("left", Consumed.with(STRING, STRING), Materialized.as("left"));
        KTable<String, String> right = builder.table("right", Consumed.with(STRING, STRING), Materialized.as("right"));
        ValueJoiner<String, String, String> joiner = (l, r) -> l + "|" + r;
        KTable<String, String> joined = switch (kind) {
          case "table-join" -> left.join(right, joiner);
          case "table-left-join" -> left.leftJoin(right, joiner);
          default -> left.outerJoin(right, joiner);
        };
        joined.toStream().to("out", Produced.with(STRING, STRING));
      }
      default -> throw new IllegalArgumentException("unknown topology kind " + kind);
    }
  }

  /**
   * By the record's key, or with `regroup` by `g<value % 3>` through a repartition topic. A
   * stream record without a value reaches Kafka Streams' windowed aggregations (a reducer gets
   * null); streamrun's stream sources skip it (README, guarantees): the twin skips it too, so
   * the rest can be compared.
   */
  private static KGroupedStream<String, String> grouped(StreamsBuilder builder, JsonNode topology) {
    KStream<String, String> in = builder.stream("in", Consumed.with(STRING, STRING)).filter((k, v) -> v != null);
    if (!topology.path("regroup").asBoolean(false)) return in.groupByKey();
    return in.groupBy((k, v) -> v == null ? null : "g" + (Long.parseLong(v) % 3), Grouped.with(STRING, STRING));
  }

  private static TimeWindowedKStream<String, String> windowed(StreamsBuilder builder, JsonNode topology) {
    long size = topology.get("size").asLong();
    long advance = topology.path("advance").asLong(size);
    long grace = topology.path("grace").asLong(0);
    TimeWindows windows = TimeWindows.ofSizeAndGrace(Duration.ofMillis(size), Duration.ofMillis(grace)).advanceBy(Duration.ofMillis(advance));
    return grouped(builder, topology).windowedBy(windows);
  }

  private static TimeWindowedKStream<String, String> slidingWindowed(StreamsBuilder builder, JsonNode topology) {
    long difference = topology.get("timeDifference").asLong();
    long grace = topology.path("grace").asLong(0);
    return grouped(builder, topology).windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(Duration.ofMillis(difference), Duration.ofMillis(grace)));
  }

  private static SessionWindowedKStream<String, String> sessions(StreamsBuilder builder, JsonNode topology) {
    long gap = topology.get("gap").asLong();
    long grace = topology.path("grace").asLong(0);
    return grouped(builder, topology).windowedBy(SessionWindows.ofInactivityGapAndGrace(Duration.ofMillis(gap), Duration.ofMillis(grace)));
  }

  private static void emit(KTable<String, String> table) {
    table.toStream().to("out", Produced.with(STRING, STRING));
  }

  /** Windowed keys go out as streamrun's JSON `{ key, start, end }`. */
  private static void emitWindowed(JsonNode topology, KTable<Windowed<String>, String> table) {
    KTable<Windowed<String>, String> emitted = topology.path("emit").asText("update").equals("final")
        ? table.suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
        : table;
    emitted.toStream()
        .map((windowed, value) -> KeyValue.pair(windowKey(windowed), value))
        .to("out", Produced.with(STRING, STRING));
  }

  private static String windowKey(Windowed<String> windowed) {
    ObjectNode key = JSON.createObjectNode();
    key.put("key", windowed.key());
    key.put("start", windowed.window().start());
    key.put("end", windowed.window().end());
    return key.toString();
  }

  private static JsonNode parseKey(String key) {
    if (!key.startsWith("{")) return JSON.getNodeFactory().textNode(key);
    try {
      return JSON.readTree(key);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String sum(String a, String b) {
    return String.valueOf(Long.parseLong(a) + Long.parseLong(b));
  }

  private static String text(JsonNode node) {
    return node == null || node.isNull() ? null : node.asText();
  }
}

package streamrun.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.state.WindowStore;

/**
 * The Kafka Streams twin of the benchmark's topologies (bench/lib/events.ts):
 *
 * <ul>
 *   <li>{@code stateless}: parse the JSON event, drop {@code value < 0}, add {@code fahrenheit =
 *       value * 1.8 + 32}, write it out;
 *   <li>{@code windowed}: count events per sensor in one-minute tumbling windows (record time, no
 *       grace), emit every update as (sensor, count);
 *   <li>{@code catch-up}: test/e2e/catch-up.test.ts's topology: regroup by the value (a region),
 *       count in hopping(30 s, 10 s) windows with 5 s grace, emit each window once when it closes,
 *       keys as streamrun's JSON {@code {key, start, end}}.
 * </ul>
 *
 * <p>Configured by the same environment variables as every bench processor (BENCH_BROKERS,
 * BENCH_INPUT, BENCH_OUTPUT, BENCH_GROUP, BENCH_STATE_DIR; BENCH_THREADS, default 1). Prints
 * {@code ready} on stdout once the client is RUNNING; on SIGTERM closes and exits 0.
 *
 * <pre>{@code
 * java -cp 'target/streams-bench.jar:target/lib/*' streamrun.bench.StreamsBench stateless
 * }</pre>
 */
public final class StreamsBench {
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

  private StreamsBench() {}

  public static void main(String[] args) {
    // Before anything creates a logger: slf4j-simple reads these once.
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
    // Every StreamsConfig without processing.exception.handler.global.enabled warns about the
    // 5.0 default, and the assignor builds one per stream thread from the consumer's configs,
    // whatever the app sets. No global tables here: quiet that class.
    System.setProperty("org.slf4j.simpleLogger.log.org.apache.kafka.streams.StreamsConfig", "error");

    if (args.length != 1 || !(args[0].equals("stateless") || args[0].equals("windowed") || args[0].equals("catch-up"))) {
      System.err.println("usage: StreamsBench stateless|windowed|catch-up");
      System.exit(2);
    }
    Properties config;
    String input;
    String output;
    try {
      config = config();
      input = env("BENCH_INPUT");
      output = env("BENCH_OUTPUT");
    } catch (IllegalArgumentException e) {
      System.err.println("StreamsBench: " + e.getMessage());
      System.exit(2);
      return;
    }
    // Before the slow part (class loading, the client's set-up), so an early SIGTERM exits 0 too.
    AtomicReference<KafkaStreams> client = new AtomicReference<>();
    AtomicBoolean failed = new AtomicBoolean(false);
    closeOnShutdown(client, failed);

    // The builder sees the app's config rather than an empty one.
    StreamsBuilder builder = new StreamsBuilder(new TopologyConfig(new StreamsConfig(config)));
    Topology topology =
        switch (args[0]) {
          case "stateless" -> stateless(builder, input, output);
          case "windowed" -> windowed(builder, input, output);
          default -> catchUp(builder, input, output);
        };
    KafkaStreams streams = new KafkaStreams(topology, config);
    client.set(streams);
    start(streams, failed);
  }

  /** Everything the twin sets; the rest are Kafka Streams defaults. */
  static Properties config() {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, env("BENCH_GROUP"));
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, env("BENCH_BROKERS"));
    props.put(StreamsConfig.STATE_DIR_CONFIG, env("BENCH_STATE_DIR"));
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads());
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
    // streamrun commits after every batch; the 30 s default would hide progress from the harness.
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
    // Emit every update (streamrun's emit 'update'), no record cache in front of the stores.
    props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0L);
    // A single-node broker: changelog and repartition topics with one replica.
    props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    props.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
    props.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
    return props;
  }

  /** stream → parse → filter value ≥ 0 → add fahrenheit → serialize → to. */
  static Topology stateless(StreamsBuilder builder, String input, String output) {
    // The fast double parser and writer (shortest round-trip digits) write numbers as
    // JSON.stringify does, so both implementations produce the same bytes.
    JsonMapper mapper =
        JsonMapper.builder()
            .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
            .enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER)
            .build();
    ObjectReader reader = mapper.reader();
    ObjectWriter writer = mapper.writer();

    builder.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
        .mapValues(json -> (ObjectNode) read(reader, json))
        .filter((sensor, event) -> !(value(event) < 0))
        .mapValues(event -> write(writer, withFahrenheit(event)))
        .to(output, Produced.with(Serdes.String(), Serdes.String()));
    return builder.build();
  }

  /** stream → groupByKey → 1-minute tumbling windows, no grace → count → (sensor, "count"). */
  static Topology windowed(StreamsBuilder builder, String input, String output) {
    builder.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
        .groupByKey()
        .windowedBy(TimeWindows.ofSizeWithNoGrace(Duration.ofMinutes(1)))
        .count(Materialized.<String, Long, WindowStore<Bytes, byte[]>>as("counts"))
        .toStream()
        .map((window, count) -> KeyValue.pair(window.key(), count == null ? null : Long.toString(count)))
        .to(output, Produced.with(Serdes.String(), Serdes.String()));
    return builder.build();
  }

  /** stream → groupBy(value) → hopping(30 s, 10 s), grace 5 s → count → suppress until close → to. */
  static Topology catchUp(StreamsBuilder builder, String input, String output) {
    builder.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
        .groupBy((user, region) -> region, Grouped.with(Serdes.String(), Serdes.String()))
        .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofSeconds(30), Duration.ofSeconds(5)).advanceBy(Duration.ofSeconds(10)))
        .count(Materialized.<String, Long, WindowStore<Bytes, byte[]>>as("views-per-region"))
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
        .toStream()
        .map((w, count) -> KeyValue.pair(
            "{\"key\":\"" + w.key() + "\",\"start\":" + w.window().start() + ",\"end\":" + w.window().end() + "}",
            Long.toString(count)))
        .to(output, Produced.with(Serdes.String(), Serdes.String()));
    return builder.build();
  }

  /**
   * On SIGTERM the JVM would exit 143 once the hooks are done; halting from the hook sets the
   * contract's code instead: 0 after a clean close, 1 after an error or a close that timed out.
   */
  static void closeOnShutdown(AtomicReference<KafkaStreams> client, AtomicBoolean failed) {
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  KafkaStreams streams = client.get();
                  boolean closed = streams == null || streams.close(CLOSE_TIMEOUT);
                  System.out.flush();
                  System.err.flush();
                  Runtime.getRuntime().halt(closed && !failed.get() ? 0 : 1);
                },
                "streams-bench-close"));
  }

  /** Starts the client; prints {@code ready} once it is RUNNING, exits 1 when it fails. */
  static void start(KafkaStreams streams, AtomicBoolean failed) {
    AtomicBoolean ready = new AtomicBoolean(false);
    streams.setStateListener(
        (now, before) -> {
          if (now == KafkaStreams.State.RUNNING && !ready.getAndSet(true)) {
            System.out.println("ready");
            System.out.flush();
          }
          if (now == KafkaStreams.State.ERROR && !failed.getAndSet(true)) {
            System.err.println("StreamsBench: the client stopped with an error");
            // Leave through the shutdown hook, which closes and exits 1.
            new Thread(() -> System.exit(1), "streams-bench-exit").start();
          }
        });
    streams.setUncaughtExceptionHandler(
        error -> {
          System.err.println("StreamsBench: a stream thread failed: " + error);
          return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
    streams.start();
  }

  private static JsonNode read(ObjectReader reader, String json) {
    try {
      return reader.readTree(json);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String write(ObjectWriter writer, JsonNode node) {
    try {
      return writer.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The event's value; NaN when it is missing or not a number (events.ts never sends those). */
  private static double value(ObjectNode event) {
    JsonNode value = event.get("value");
    return value != null && value.isNumber() ? value.doubleValue() : Double.NaN;
  }

  /** statelessStep's `{ ...event, fahrenheit }`: the field goes last, whole numbers without ".0". */
  private static ObjectNode withFahrenheit(ObjectNode event) {
    double fahrenheit = value(event) * 1.8 + 32;
    if (Double.isNaN(fahrenheit)) {
      event.putNull("fahrenheit");
    } else if (fahrenheit == Math.rint(fahrenheit) && Math.abs(fahrenheit) < 1e15) {
      event.put("fahrenheit", (long) fahrenheit);
    } else {
      event.put("fahrenheit", fahrenheit);
    }
    return event;
  }

  private static int threads() {
    String raw = System.getenv("BENCH_THREADS");
    if (raw == null || raw.isBlank()) return 1;
    try {
      int threads = Integer.parseInt(raw.trim());
      if (threads >= 1) return threads;
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw new IllegalArgumentException("BENCH_THREADS must be a positive integer, got '" + raw + "'");
  }

  private static String env(String name) {
    String value = System.getenv(name);
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException(name + " is not set");
    }
    return value;
  }
}

import { join } from 'node:path';
import { graphOf, type Topology } from '../dsl/topology.ts';
import { StreamrunError } from '../errors/streamrun-error.ts';
import { describeGraph, type TopologyDescription } from '../graph/describe.ts';
import { childrenOf } from '../graph/edges.ts';
import { underAppId } from '../graph/app-id.ts';
import type { EnrichNode, ExternalSinkNode, GraphNode } from '../graph/nodes.ts';
import { subtopologies, type Subtopology } from '../graph/subtopologies.ts';
import { storeSpecs } from '../state/changelog.ts';
import { checkStateDir, isStateDirError } from '../state/state-dir.ts';
import { TaskStores, type StoreSpec } from '../state/task-stores.ts';
import type {
  Assignment,
  BatchControl,
  ChangelogReader,
  InputBatch,
  InputConsumer,
  MemberInfo,
  OutputProducer,
  StreamClient,
  TransactionalConsumer,
} from '../kafka/client.ts';
import { atLeastOnce, type CommitStep } from './commit.ts';
import { ExactlyOnce, isRolledBack } from './exactly-once.ts';
import { IsolatedRecords } from './isolated-records.ts';
import { claimProcessIdentity, type ProcessIdentity } from '../state/process-id.ts';
import { createStreamClient } from '../kafka/stream-client.ts';
import { resolveRunnerOptions, type ResolvedRunnerOptions, type RunnerOptions } from './options.ts';
import { addTo, Counters, type RunnerStats } from './stats.ts';
import { Task } from './task.ts';
import { ensureTopic, ensureTopics } from './topics.ts';
import type { FailureHandling } from './failures.ts';
import { NodePolicies } from './node-policies.ts';
import { processBatch, type WorkLane } from './batch-work.ts';
import { createBreaker, type Breaker } from '../errors/breaker.ts';
import { dashboardRoutes } from '../server/dashboard-routes.ts';
import { startHttpServer, type HttpServer } from '../server/http-server.ts';
import { Metrics, type PartitionValue } from '../metrics/instruments.ts';
import { committedRecordCounter, type RecordCounter } from './record-counter.ts';
import { localStoreQueries, readKey } from './local-store-queries.ts';
import { routedStoreQueries } from './routed-store-queries.ts';
import { setupRun, type HealthCheck, type SetupRun } from './setup.ts';
import { startupRetry } from './startup-retry.ts';
import type { HealthReport } from '../server/store-queries.ts';
import { openSerdes } from './serde-readiness.ts';

/**
 * Runs a topology in this process until `stop()`: one consumer group member, one task per
 * assigned partition, one idempotent producer.
 *
 * @example
 * const runner = await start(topology('uppercase')
 *   .stream('input', { key: serdes.string, value: serdes.string })
 *   .mapValues((v) => v.toUpperCase())
 *   .to('output'), { brokers: '127.0.0.1:9092' });
 * process.once('SIGTERM', () => runner.stop());
 */
export async function start(topology: Topology, options: RunnerOptions = {}): Promise<Runner> {
  const built = graphOf(topology);
  const resolved = resolveRunnerOptions(options, built.appId);
  const graph = underAppId(built, resolved.appId);
  const client = createStreamClient(resolved.client, {
    brokers: resolved.brokers,
    security: resolved.security,
    clientId: resolved.appId,
    logger: resolved.logger,
    sessionTimeoutMs: resolved.sessionTimeoutMs,
  });
  // Described as it runs, not as built: under --app-id the internal topics carry the id it runs under.
  const runner = new Runner(subtopologies(graph), childrenOf(graph), client, resolved, describeGraph(graph));
  await runner.begin();
  return runner;
}

export class Runner {
  readonly appId: string;
  readonly #options: ResolvedRunnerOptions;
  readonly #client: StreamClient;
  readonly #subtopologyOfTopic = new Map<string, Subtopology>();
  readonly #children: (node: GraphNode) => readonly GraphNode[];
  /** What the dashboard draws. */
  readonly #description: TopologyDescription;
  /** Tasks by id; a task is ready once its stores are restored. */
  readonly #tasks = new Map<string, Promise<Task>>();
  /** Revoked tasks still closing: the same task may not reopen its stores before. */
  readonly #closing = new Map<string, Promise<void>>();
  readonly #stores = new Map<number, StoreSpec[]>();
  #reader: ChangelogReader | undefined;
  /** Tasks whose stores are open, for queries. */
  readonly #ready = new Map<string, Task>();
  #server: HttpServer | undefined;
  /** What the topology module's setup registered: routes, health checks, stop hooks. */
  #setup: SetupRun | undefined;
  /** Partitions of every topic the topology reads or writes, known once they exist. */
  #partitions = new Map<string, number>();
  /** How many tasks write each repartition topic: its readers wait for the event time of each. */
  readonly #writers = new Map<string, number>();
  /** Partitions of each dead-letter topic, known once they exist. */
  readonly #deadLetterPartitions = new Map<string, number>();
  readonly #breakers = new Map<string, Breaker>();
  /** Work that waits on retries or an open circuit, by task, while its partition is paused. */
  readonly #parked = new Map<string, { readonly job: Promise<void>; readonly abort: AbortController }>();
  readonly #policies: NodePolicies;
  /** Set when a record failed for good under `onExhausted: 'fail'`: `finished` rejects with it. */
  #fatal: StreamrunError | undefined;
  readonly #stats = new Counters();
  #metrics: Metrics | undefined;
  #consumer: InputConsumer | undefined;
  /** By `<topic>-<partition>` with a batch in flight: when it last committed (or began). */
  readonly #lastMoved = new Map<string, number>();
  /** The group's members and their tasks as of the last rebalance. */
  #members: readonly MemberInfo[] = [];
  #producer: OutputProducer | undefined;
  #commitStep: CommitStep | undefined;
  /** Exactly-once: the transactions, the claim on the state dir behind their id, the records tried alone. */
  #exactlyOnce: ExactlyOnce | undefined;
  #identity: ProcessIdentity | undefined;
  /** Exactly-once: counts the records of a topic, which its offsets no longer do (markers take some). */
  #recordCounter: RecordCounter | undefined;
  #isolated: IsolatedRecords | undefined;
  /** Bumped by each rollback: a batch begun before it may not go on. */
  #rollbacks = 0;
  #stopping: Promise<void> | undefined;
  /** Set once the consumer joined its group: until then `/health` says 'starting'. */
  #joined = false;
  #resolveFinished!: () => void;
  #rejectFinished!: (error: Error) => void;
  /** Settles when the runner stopped: resolves after `stop()`, rejects if the consumer died. */
  readonly finished: Promise<void>;

  /** @internal use `start()` */
  constructor(
    subs: readonly Subtopology[],
    children: (node: GraphNode) => readonly GraphNode[],
    client: StreamClient,
    options: ResolvedRunnerOptions,
    description: TopologyDescription,
  ) {
    this.appId = options.appId;
    this.#description = description;
    this.#options = options;
    this.#client = client;
    this.#children = children;
    this.#policies = new NodePolicies(subs.flatMap((sub) => sub.nodes), options.appId, options.errors);
    for (const sub of subs) {
      for (const topic of sub.sourceTopics) this.#subtopologyOfTopic.set(topic, sub);
      this.#stores.set(sub.id, storeSpecs(options.appId, sub.nodes));
    }
    this.finished = new Promise((resolve, reject) => {
      this.#resolveFinished = resolve;
      this.#rejectFinished = reject;
    });
    this.finished.catch(() => {});
  }

  /** @internal */
  async begin(): Promise<void> {
    const { logger } = this.#options;
    const subs = unique([...this.#subtopologyOfTopic.values()]);
    // Before anything else: without a writable state directory no task could open its stores.
    if ([...this.#stores.values()].some((specs) => specs.length > 0)) await checkStateDir(this.#options.stateDir);
    // A schema the registry refuses stops the start before anything joins the group.
    await openSerdes(subs.flatMap((sub) => sub.nodes));
    // No broker at all fails here, at once; what a broker answers transiently later is retried.
    await this.#client.connect();
    const client = this.#client;
    const step = startupRetry({ timeoutMs: this.#options.startupTimeoutMs, transient: (e) => client.transient(e), brokers: this.#options.brokers, logger });
    try {
      const specsOf = (sub: Subtopology) => this.#stores.get(sub.id) ?? [];
      // A table read from a topic has that topic for changelog: it exists as a source already.
      const changelogsOf = (sub: Subtopology) => specsOf(sub).flatMap((s) => (s.sourceTopic ? [] : [s.changelog]));
      const counts = await ensureTopics(client, step, subs, changelogsOf, this.#options.sourcePartitions, logger);
      this.#partitions = counts;
      for (const sub of subs) {
        const tasks = Math.max(...sub.sourceTopics.map((t) => counts.get(t) ?? 1));
        for (const node of sub.nodes) if (node.kind === 'sink' && node.internal === true) this.#writers.set(node.topic, tasks);
      }
      const widest = Math.max(...subs.flatMap((sub) => sub.sourceTopics.map((t) => counts.get(t) ?? 1)));
      for (const topic of this.#policies.deadLetterTopics()) {
        this.#deadLetterPartitions.set(topic, await ensureTopic(client, step, topic, widest, logger));
      }
      checkCopartitioned(subs, counts);
      const changelogs = [...new Set(subs.flatMap((sub) => specsOf(sub).map((s) => s.changelog)))];
      if (changelogs.length > 0) this.#reader = await step('start the changelog reader', () => client.changelogReader(changelogs));
      this.#warnUnnamedStores(subs);
      this.#commitStep = await this.#openCommitStep(step);
      if (this.#options.setup !== undefined) {
        const { appId, brokers, stateDir } = this.#options;
        this.#setup = setupRun(client, step, { appId, brokers, stateDir, logger }, this.#options.publishTimeoutMs, this.#recordCounter, this.#stats);
        await this.#options.setup(this.#setup.context);
      }
      // Ingest and queries need the producer and the setup's services, not the group: serve them
      // while the join waits (after a crash, for the dead member's session to run out).
      if (this.#options.port !== undefined) await this.#startServer(this.#options.port);
      // Each try is a new consumer (one that failed to join has left), set before it starts:
      // its first batches may come before `start` resolves.
      await step(`join group ${this.appId}`, () => {
        const membership = {
          subtopologyOf: (topic: string) => this.#subtopologyOfTopic.get(topic)?.id,
          self: () => ({ endpoint: this.#endpoint(), tasks: this.tasks() }),
        };
        const exactlyOnce = this.#exactlyOnce;
        this.#consumer = exactlyOnce === undefined ? client.consumer(this.appId, membership) : client.transactions!.consumer(this.appId, membership);
        return this.#consumer.start([...this.#subtopologyOfTopic.keys()], {
          onBatch: (batch, control) => this.#onBatch(batch, control),
          onAssignment: (assignment) => this.#onAssignment(assignment),
          onCrash: (error, restarting) => this.#onCrash(error, restarting),
          ...(exactlyOnce === undefined
            ? {}
            : {
                // Parked work ends first: after the rejoin its sends would go out under the new
                // generation, which the group takes for any partition, also one that moved.
                onRevoke: async () => {
                  await Promise.all([...this.#parked.keys()].map((id) => this.#unpark(id)));
                  await exactlyOnce.onRevoke();
                },
                commitPast: (offsets) => exactlyOnce.commitPast(offsets),
              }),
        });
      });
      this.#joined = true;
    } catch (error) {
      await this.#closeClients();
      throw error;
    }
    logger.info(`${this.appId} running`, {
      brokers: this.#options.brokers,
      stateDir: this.#options.stateDir,
      ...(this.#server ? { http: this.#server.url } : {}),
    });
  }

  /**
   * At-least-once: one idempotent producer. Exactly-once: one transactional producer whose id
   * stays the same across restarts of this state dir (see process-id.ts), Kafka Streams' EOS v2.
   */
  async #openCommitStep(step: ReturnType<typeof startupRetry>): Promise<CommitStep> {
    const client = this.#client;
    if (this.#options.processing === 'at-least-once') {
      this.#producer = await step('connect the producer', () => client.producer());
      return atLeastOnce(this.#producer, this.#stats);
    }
    const transactions = client.transactions;
    if (transactions === undefined) {
      throw new StreamrunError('INVALID_OPTIONS', `processing: exactly-once needs a client with KIP-447 transactions; ${this.#options.client} has none`);
    }
    this.#identity = await claimProcessIdentity(this.#options.stateDir, this.appId);
    this.#recordCounter = committedRecordCounter(client);
    const transactionalId = `${this.appId}-${this.#identity.id}`;
    this.#isolated = new IsolatedRecords();
    this.#exactlyOnce = await step('open the transactional producer', () =>
      ExactlyOnce.open({
        // Kafka Streams' default under exactly-once: what a crash leaves open blocks readers this long at most.
        open: () => transactions.producer(transactionalId, 10_000),
        group: () => (this.#consumer as TransactionalConsumer).groupMetadata(),
        intervalMs: this.#options.commitIntervalMs,
        rollBack: () => this.#rollBack(),
        current: (task) => this.#ready.get(task.id) === task,
        fatal: (error) => this.#stopFor(error instanceof StreamrunError ? error : new StreamrunError('STATE_DIR', error.message, { cause: error })),
        stats: this.#stats,
        logger: this.#options.logger,
      }),
    );
    return this.#exactlyOnce;
  }

  /**
   * After an aborted transaction: no batch goes on, every task closes (its state goes back to
   * what its stores and changelogs hold, the last commit) and reopens with its next batch, which
   * comes from the group's committed offsets.
   */
  async #rollBack(): Promise<void> {
    this.#rollbacks++;
    await (this.#consumer as TransactionalConsumer | undefined)?.rewind(async () => {
      await Promise.all([...this.#parked.keys()].map((id) => this.#unpark(id)));
      await Promise.all([...this.#tasks.keys()].map((id) => this.#closeTask(id)));
    });
  }

  async #startServer(port: number): Promise<void> {
    const specs = new Map([...this.#stores.values()].flat().map((spec) => [spec.store, spec]));
    const stores = () => [...this.#ready.values()].flatMap((task) => (task.stores ? [task.stores] : []));
    this.#server = await startHttpServer({
      port,
      ...(this.#options.host === undefined ? {} : { host: this.#options.host }),
      queries: routedStoreQueries(localStoreQueries(specs, stores), {
        specs,
        self: () => this.#endpoint(),
        members: () => this.#members,
        taskOf: (store, keyText) => this.#taskOfKey(store, keyText),
        timeoutMs: 5_000,
      }),
      health: () => this.#health(),
      logger: this.#options.logger,
      // The dashboard's come last: they leave `GET /` to the topology's routes if they take it.
      routes: [...(this.#setup?.routes ?? []), dashboardRoutes({ metrics: this.#instruments(), topology: this.#description })],
      metrics: this.#instruments(),
    });
  }

  /** Made once asked for: the process metrics it adds sample the event loop from then on. */
  #instruments(): Metrics {
    this.#metrics ??= new Metrics({
      appId: this.appId,
      counters: this.#stats,
      lag: () => this.#lag(),
      deadLetters: () => this.#deadLetterSizes(),
      storeBytes: () => this.#storeBytes(),
      breakers: () => new Map([...this.#breakers].map(([node, breaker]) => [node, breaker.state()])),
      pausedPartitions: () => this.#parked.size,
      assignedPartitions: () => this.#tasks.size,
    });
    return this.#metrics;
  }

  /** Each owned partition's end offset minus the group's committed one (its start when it never committed). */
  async #lag(): Promise<PartitionValue[]> {
    const owned = new Map<string, number[]>();
    for (const [topic, sub] of this.#subtopologyOfTopic) {
      const prefix = `${sub.id}_`;
      const partitions = [...this.#tasks.keys()].filter((id) => id.startsWith(prefix)).map((id) => Number(id.slice(prefix.length)));
      if (partitions.length > 0) owned.set(topic, partitions);
    }
    const lags = await Promise.all(
      [...owned].map(async ([topic, partitions]) => {
        const [ends, committed] = await Promise.all([this.#client.offsets(topic), this.#client.committedOffsets(this.appId, topic)]);
        return partitions.flatMap((partition) => {
          const end = ends.get(partition);
          if (end === undefined) return [];
          const from = committed.get(partition) ?? end.low;
          return [{ topic, partition, value: Math.max(0, Number(BigInt(end.high) - BigInt(from))) }];
        });
      }),
    );
    return lags.flat();
  }

  /** Each dead-letter partition's records: its end minus its start offset, or the committed records under exactly-once. */
  async #deadLetterSizes(): Promise<PartitionValue[]> {
    const counter = this.#recordCounter;
    const sizes = await Promise.all(
      [...this.#deadLetterPartitions.keys()].map(async (topic) => {
        const records =
          counter === undefined
            ? new Map([...(await this.#client.offsets(topic))].map(([partition, { low, high }]) => [partition, Number(BigInt(high) - BigInt(low))]))
            : await counter.count(topic);
        return [...records].map(([partition, value]) => ({ topic, partition, value }));
      }),
    );
    return sizes.flat();
  }

  async #storeBytes(): Promise<Map<string, number>> {
    const sizes = new Map<string, number>();
    for (const task of this.#ready.values()) {
      for (const [store, bytes] of (await task.stores?.diskBytes()) ?? []) addTo(sizes, store, bytes);
    }
    return sizes;
  }

  /** The Prometheus text of this runner's metrics, as `GET /metrics` serves it. */
  metrics(): Promise<string> {
    return this.#instruments().text();
  }

  /** Where the other instances reach this one's HTTP server. */
  #endpoint(): string | undefined {
    return this.#options.advertisedUrl ?? this.#server?.url;
  }

  /**
   * The task whose store holds a key: its partition as the default partitioner picks it from
   * the key's bytes, as Kafka Streams' `queryMetadataForKey` assumes. Windowed stores are asked
   * by time range, never by key.
   */
  #taskOfKey(store: string, keyText: string): string | undefined {
    for (const [subId, specs] of this.#stores) {
      const spec = specs.find((s) => s.store === store);
      if (spec === undefined || spec.windowed === true) continue;
      const sub = [...this.#subtopologyOfTopic.values()].find((s) => s.id === subId)!;
      const partitions = this.#partitions.get(sub.sourceTopics[0]!);
      if (partitions === undefined) return undefined;
      const bytes = spec.serdes.key.serialize(readKey(spec, keyText));
      return `${subId}_${this.#client.partitionOf(bytes, partitions)}`;
    }
    return undefined;
  }

  /** Learns who runs what after a rebalance, for queries of keys held elsewhere. */
  async #learnMembers(): Promise<void> {
    try {
      this.#members = await this.#consumer!.members();
    } catch (error) {
      this.#options.logger.warn(`could not learn the group's members: ${(error as Error).message}; queries of other instances' keys answer 503`);
      this.#members = [];
    }
  }

  async #health(): Promise<HealthReport> {
    // An open circuit is a dependency the runner already knows is down: its partitions wait.
    const circuits = [...this.#breakers].map(([node, breaker]): [string, HealthCheck] => [
      `circuit ${node}`,
      async () => {
        if (!breaker.closed()) throw new Error('open: its records wait until a call goes through');
      },
    ]);
    const stalled: [string, HealthCheck][] = [...this.#lastMoved]
      .filter(([, at]) => Date.now() - at > this.#options.stallTimeoutMs)
      .map(([partition, at]) => [
        `partition ${partition}`,
        async () => {
          throw new Error(`has not moved for ${Math.round((Date.now() - at) / 1000)} s: its batch waits (retries, a slow call)`);
        },
      ]);
    const checks: [string, HealthCheck][] = [['kafka', () => this.#client.ping()], ...circuits, ...stalled, ...(this.#setup?.checks ?? [])];
    const results = await Promise.all(
      checks.map(async ([name, check]) => {
        try {
          await check();
          return [name, 'ok'] as const;
        } catch (error) {
          return [name, error instanceof Error ? error.message : String(error)] as const;
        }
      }),
    );
    const healthy = results.every(([, result]) => result === 'ok');
    const status = this.#stopping ? 'stopping' : !this.#joined ? 'starting' : healthy ? 'ok' : 'degraded';
    return { status, appId: this.appId, tasks: this.tasks(), checks: Object.fromEntries(results) };
  }

  /** Where the embedded HTTP server answers, when `port` was given. */
  get httpUrl(): string | undefined {
    return this.#server?.url;
  }

  /** A snapshot of the counters. */
  stats(): RunnerStats {
    return this.#stats.snapshot();
  }

  /** Ids of the tasks this instance runs now, e.g. `0_3` (sub-topology 0, partition 3). */
  tasks(): string[] {
    return [...this.#tasks.keys()].sort();
  }

  /**
   * Stops consuming, lets the batch in flight finish and commit, leaves the group and closes the
   * clients. Rejects with SHUTDOWN_TIMEOUT when that takes longer than `shutdownTimeoutMs`.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#shutdown();
    return this.#stopping;
  }

  async #shutdown(): Promise<void> {
    const { logger, shutdownTimeoutMs } = this.#options;
    logger.info(`${this.appId} stopping`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StreamrunError('SHUTDOWN_TIMEOUT', `could not drain and commit within ${shutdownTimeoutMs} ms`)),
        shutdownTimeoutMs,
      );
    });
    try {
      await Promise.race([this.#closeClients(), timeout]);
      logger.info(`${this.appId} stopped`, { ...this.#stats.snapshot() });
      if (this.#fatal) this.#rejectFinished(this.#fatal);
      else this.#resolveFinished();
    } catch (error) {
      this.#rejectFinished(error as Error);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async #closeClients(): Promise<void> {
    this.#exactlyOnce?.stopping();
    await this.#server?.close();
    // Parked work gives up its waits and ends while the consumer can still commit for it.
    await Promise.all([...this.#parked.keys()].map((id) => this.#unpark(id)));
    await this.#consumer?.close();
    const tasks = [...this.#tasks.keys()];
    await Promise.all(tasks.map((id) => this.#closeTask(id)));
    await this.#reader?.close();
    await this.#producer?.close();
    await this.#exactlyOnce?.close().catch((error: unknown) => this.#options.logger.warn(`closing the transactional producer failed: ${(error as Error).message}`));
    await this.#setup?.close();
    await this.#recordCounter?.close();
    await this.#client.close();
    await this.#identity?.release();
  }

  #warnUnnamedStores(subs: readonly Subtopology[]): void {
    // Both sides of a table–table join name the joined table's store: one warning.
    const stores = new Set<string>();
    for (const node of subs.flatMap((s) => s.nodes)) {
      if ('named' in node && !node.named && !stores.has(node.store)) {
        stores.add(node.store);
        this.#options.logger.warn(
          `store ${node.store} has a generated name: it changes when the topology does, and its state with it; pass { name }`,
        );
      }
    }
  }

  async #onBatch(batch: InputBatch, control: BatchControl): Promise<void> {
    const task = await this.#withHeartbeats(control, this.#taskFor(batch.topic, batch.partition));
    // Fetched before its partition paused: it is fetched again when the parked work ends.
    if (this.#parked.has(task.id)) return;
    const abort = new AbortController();
    let parked = false;
    let next: string | undefined;
    let onPark!: () => void;
    const parking = new Promise<true>((resolve) => (onPark = () => resolve(true)));
    const progress = `${batch.topic}-${batch.partition}`;
    this.#lastMoved.set(progress, Date.now());
    const rollbacks = this.#rollbacks;
    const lane: WorkLane = {
      commit: async (offsets) => {
        await (parked ? this.#consumer!.commit(offsets) : control.commit(offsets));
        this.#lastMoved.set(progress, Date.now());
      },
      resolve: (offset) => {
        this.#lastMoved.set(progress, Date.now());
        if (parked) next = (BigInt(offset) + 1n).toString();
        else control.resolveOffset(offset);
      },
      live: () => !abort.signal.aborted && rollbacks === this.#rollbacks && (parked || (control.isRunning() && !control.isStale())),
      heartbeat: () => (parked ? Promise.resolve() : control.heartbeat()),
      signal: abort.signal,
    };
    const handling = this.#failureHandling(abort.signal, () => {
      parked = true;
      onPark();
    });
    const onFatal = (error: StreamrunError) => this.#stopFor(error);
    const work = processBatch(task, batch, lane, {
      commitStep: this.#commitStep!,
      maxBufferedOutputs: this.#options.maxBufferedOutputs,
      stats: this.#stats,
      handling,
      onFatal,
      isolated: this.#isolated,
    })
      .catch((error: unknown) => {
        // Its transaction aborted: the rollback reads the batch again (exactly-once.ts said why).
        if (isRolledBack(error)) return;
        // The stores cannot be written: trying the batch again would fail the same way.
        if (!isStateDirError(error)) throw error;
        onFatal(error);
      })
      // Work was thrown away (exactly-once): the task opens afresh before its next record.
      .finally(() => (task.dirty && this.#ready.get(task.id) === task ? this.#reopenLater(task) : undefined));
    void work.catch(() => {}).finally(() => this.#lastMoved.delete(progress));
    const outcome = await this.#withHeartbeats(control, Promise.race([work.then(() => false as const), parking]));
    if (!outcome) return;
    // The work waits on retries or an open circuit: the other partitions go on without it.
    const { topic, partition } = batch;
    this.#consumer!.pause(topic, partition);
    this.#stats.pauses++;
    const job = work
      .catch((error: unknown) => {
        next = undefined;
        this.#options.logger.error(`task ${task.id} failed while its partition was paused: ${(error as Error).message}`);
      })
      .finally(() => {
        this.#parked.delete(task.id);
        // A revoked partition stays paused in the client across assignments unless resumed.
        this.#consumer!.resume(topic, partition, lane.live() ? next : undefined);
      });
    this.#parked.set(task.id, { job, abort });
  }

  /** Stops the runner for good: `finished` rejects with the first such error. */
  #stopFor(error: StreamrunError): void {
    this.#fatal ??= error;
    void this.stop().catch(() => {});
  }

  /** One breaker per enrich node and external sink, shared by this runner's tasks: they call the same dependency. */
  #breakerFor(node: EnrichNode | ExternalSinkNode): Breaker {
    let breaker = this.#breakers.get(node.name);
    if (breaker === undefined) {
      const rejects = node.kind === 'externalSink' ? node.sink.rejects?.bind(node.sink) : undefined;
      breaker = createBreaker(node.breaker, rejects === undefined ? undefined : (error) => !rejects(error));
      breaker.onOpen(() => this.#options.logger.warn(`circuit opened at ${node.name}: its dependency keeps failing`));
      this.#breakers.set(node.name, breaker);
    }
    return breaker;
  }

  #failureHandling(signal: AbortSignal, park: () => void): FailureHandling {
    return {
      signal,
      park,
      policyFor: (node) => this.#policies.of(node),
      appId: this.appId,
      deadLetterPartitions: (topic) => this.#deadLetterPartitions.get(topic) ?? 1,
      stats: this.#stats,
      logger: this.#options.logger,
      now: Date.now,
    };
  }

  /** Restores and retries may outlast the session timeout: keep telling the group this member lives. */
  async #withHeartbeats<T>(control: BatchControl, work: Promise<T>): Promise<T> {
    const beat = setInterval(() => void control.heartbeat().catch(() => {}), 1000);
    try {
      return await work;
    } finally {
      clearInterval(beat);
    }
  }

  #taskFor(topic: string, partition: number): Promise<Task> {
    const sub = this.#subtopologyOfTopic.get(topic);
    if (sub === undefined) throw new StreamrunError('INVALID_TOPOLOGY', `no sub-topology reads ${topic}`);
    const id = `${sub.id}_${partition}`;
    const existing = this.#tasks.get(id);
    if (existing !== undefined) return existing;
    const task = this.#openTask(id, sub, partition);
    this.#tasks.set(id, task);
    // A task that failed to open is tried afresh with the next batch, unless its stores cannot be written.
    task.catch((error: unknown) => {
      if (this.#tasks.get(id) === task) this.#tasks.delete(id);
      if (isStateDirError(error)) this.#stopFor(error);
      else this.#options.logger.error(`task ${id} could not open: ${(error as Error).message}`);
    });
    return task;
  }

  async #openTask(id: string, sub: Subtopology, partition: number): Promise<Task> {
    await this.#closing.get(id);
    const specs = this.#stores.get(sub.id) ?? [];
    const stores =
      specs.length === 0
        ? undefined
        : await TaskStores.open({
            directory: join(this.#options.stateDir, this.appId, id),
            taskId: id,
            partition,
            specs,
            reader: this.#reader!,
            changelogOffsets: (topic) => this.#client.offsets(topic),
            logger: this.#options.logger,
            onRestore: (store, records, remaining) => this.#stats.addRestored(store, id, records, remaining),
          });
    const behind = await this.#behindAt(sub, partition);
    const task = new Task({
      id,
      partition,
      nodes: sub.nodes,
      children: this.#children,
      breaker: (node) => this.#breakerFor(node),
      onLate: (node, timestamp, at) => {
        addTo(this.#stats.late, node);
        this.#options.logger.debug(`dropped a late record at ${node}: its windows closed`, { timestamp, ...at });
      },
      stores,
      time: { writers: (topic) => this.#writers.get(topic) ?? 0, idleMs: this.#options.watermarkIdleMs, now: Date.now },
      behind,
      partitions: (topic) => this.#partitions.get(topic) ?? 1,
      lateDeadLetters: (node) => {
        // The node's own policy's topic, else the runner's: late records go where its failures go.
        const topic = this.#policies.of(node).deadLetterTopic;
        return { topic, partitions: this.#deadLetterPartitions.get(topic) ?? 1, appId: this.appId };
      },
    });
    this.#ready.set(id, task);
    return task;
  }

  /**
   * The user topics of a task reading several inputs whose partition has records the group has
   * not read yet: they hold its stream time back until read. One input alone has nothing to wait for.
   */
  async #behindAt(sub: Subtopology, partition: number): Promise<string[]> {
    if (sub.sourceTopics.length < 2) return [];
    const topics = sub.nodes.flatMap((n) => (n.kind === 'source' && n.internal !== true ? [n.topic] : []));
    const behind: string[] = [];
    for (const topic of topics) {
      const [ends, committed] = await Promise.all([this.#client.offsets(topic), this.#client.committedOffsets(this.appId, topic)]);
      const end = ends.get(partition);
      if (end === undefined) continue;
      // Never committed: the group reads from the start.
      const from = committed.get(partition) ?? end.low;
      if (BigInt(from) < BigInt(end.high)) behind.push(topic);
    }
    return behind;
  }

  /**
   * Closes a task whose work was discarded; its next batch opens it afresh from its stores, once
   * what it sent before is committed (should that fail, the rollback closes every task anyway).
   */
  async #reopenLater(task: Task): Promise<void> {
    await this.#exactlyOnce?.commitNow().catch(() => {});
    if (this.#ready.get(task.id) === task) await this.#closeTask(task.id);
  }

  /** Tasks hold nothing between batches (each batch ends with its commit): closing only closes stores. */
  #closeTask(id: string): Promise<void> {
    const task = this.#tasks.get(id);
    this.#tasks.delete(id);
    if (task === undefined) return this.#closing.get(id) ?? Promise.resolve();
    this.#ready.delete(id);
    const unparked = this.#unpark(id);
    const closed = Promise.all([task, unparked])
      .then(([t]) => t.close())
      .catch(() => {})
      .finally(() => {
        if (this.#closing.get(id) === closed) this.#closing.delete(id);
      });
    this.#closing.set(id, closed);
    return closed;
  }

  /** Ends a task's parked work, if it has any: its record is read again by whoever owns the partition next. */
  #unpark(id: string): Promise<void> {
    const parked = this.#parked.get(id);
    if (parked === undefined) return Promise.resolve();
    parked.abort.abort();
    return parked.job;
  }

  #onAssignment(assignment: Assignment): void {
    const assigned = new Set<string>();
    for (const [topic, partitions] of assignment) {
      const sub = this.#subtopologyOfTopic.get(topic);
      if (sub === undefined) continue;
      for (const partition of partitions) {
        assigned.add(`${sub.id}_${partition}`);
        // Opening now lets stores restore while the consumer starts fetching.
        void this.#taskFor(topic, partition).catch(() => {});
      }
    }
    for (const id of [...this.#tasks.keys()]) if (!assigned.has(id)) void this.#closeTask(id);
    this.#options.logger.info(`${this.appId} assigned tasks: ${this.tasks().join(', ') || '(none)'}`);
    void this.#learnMembers();
  }


  #onCrash(error: Error, restarting: boolean): void {
    const { logger } = this.#options;
    if (restarting) {
      logger.warn(`consumer failed and restarts: ${error.message}`);
      return;
    }
    logger.error(`consumer failed for good: ${error.message}`);
    this.#rejectFinished(error);
  }
}

/** A join looks keys up in its own task's table or buffers: the topics it joins must split keys alike. */
function checkCopartitioned(subs: readonly Subtopology[], counts: ReadonlyMap<string, number>): void {
  for (const sub of subs) {
    if (!sub.nodes.some((n) => n.kind === 'join' || n.kind === 'streamJoin' || n.kind === 'tableJoin')) continue;
    const widths = new Set(sub.sourceTopics.map((t) => counts.get(t)));
    if (widths.size > 1) {
      const list = sub.sourceTopics.map((t) => `${t} (${counts.get(t)})`).join(', ');
      throw new StreamrunError('TOPIC_SETUP', `a join needs co-partitioned topics, but their partition counts differ: ${list}`);
    }
  }
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

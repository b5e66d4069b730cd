/*
 * neo4j-local launcher: runs an embedded Neo4j Community DBMS with a Bolt connector on
 * 127.0.0.1 so that Coterie (and its integration tests) get a real Neo4j on machines
 * without Docker. See neo4j-local/README.md.
 *
 * Protocol with the parent process (src/platform/neo4j-local.ts):
 *   stdout: exactly one line "NEO4J_LOCAL_READY bolt://127.0.0.1:<port>" once Bolt listens,
 *           and "NEO4J_LOCAL_STOPPED" after a clean shutdown; with --import ARGS first
 *           "NEO4J_LOCAL_IMPORTED" once the offline import is done. Nothing else goes to stdout.
 *   stderr: diagnostics and errors (one readable line per problem).
 *   exit:   0 after a clean shutdown (SIGTERM, SIGINT or stdin EOF), non-zero on failure.
 *   stdin:  watched; EOF means the parent died, so the DBMS shuts down (unless --ignore-stdin).
 *   env:    NEO4J_LOCAL_PASSWORD, the Bolt password of user neo4j (unset: no auth).
 */
package dev.coterie.neo4jlocal;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.neo4j.cli.AdminTool;
import org.neo4j.cli.ExecutionContext;
import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.ConnectorPortRegister;
import org.neo4j.configuration.connectors.ConnectorType;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.internal.kernel.api.exceptions.ProcedureException;
import org.neo4j.kernel.api.procedure.GlobalProcedures;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.internal.helpers.HostnamePort;
import org.neo4j.io.fs.DefaultFileSystemAbstraction;
import org.neo4j.kernel.internal.GraphDatabaseAPI;

public final class Launcher {
  static final String READY = "NEO4J_LOCAL_READY";
  static final String STOPPED = "NEO4J_LOCAL_STOPPED";
  static final String IMPORTED = "NEO4J_LOCAL_IMPORTED";
  static final String HOST = "127.0.0.1";

  /** Exit codes. */
  static final int EXIT_USAGE = 2;
  static final int EXIT_START_FAILED = 3;
  static final int EXIT_DATA_DIR_LOCKED = 4;
  static final int EXIT_STOP_FAILED = 5;
  static final int EXIT_IMPORT_FAILED = 6;
  /** How long a start waits for a stopping launcher's lock (its stop takes 1-3 s, up to 30). */
  static final long LOCK_WAIT_MS = 35_000;

  /**
   * Set while the bulk importer runs: it cannot be interrupted, so a stop then halts the
   * JVM at once rather than let it import for minutes into a store the parent discards
   * (and a retry reuses its staging folder meanwhile).
   */
  static volatile boolean importing = false;

  /** Held for the JVM's life (the OS drops it when the process ends, however it ends). */
  static FileLock dataDirLock;

  /**
   * One launcher per data dir, decided before anything is written: Neo4j's own store lock
   * comes only when the DBMS starts, after a fresh store has taken its initial password,
   * so two launchers started at once on a new folder could each set theirs and the winner
   * serve the loser's.
   */
  static void lockDataDir(Path dataDir, CountDownLatch stopRequested) {
    try {
      Files.createDirectories(dataDir);
      FileChannel channel =
          FileChannel.open(
              dataDir.resolve("launcher.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      dataDirLock = channel.tryLock();
      // A launcher stopping removes bolt.uri first and holds the lock for its last seconds
      // (a service restarted right after it was killed): wait for it, rather than fail a
      // restart that has nothing wrong. With bolt.uri there, a live Neo4j holds it: refused.
      Path boltUri = dataDir.resolve("bolt.uri");
      if (dataDirLock == null && !Files.exists(boltUri)) {
        System.err.println(
            "neo4j-local: data directory "
                + dataDir.toAbsolutePath()
                + " is locked by a Neo4j that serves no bolt.uri (stopping, or starting):"
                + " waiting up to "
                + LOCK_WAIT_MS / 1000
                + " s for it");
        long until = System.nanoTime() + LOCK_WAIT_MS * 1_000_000L;
        while (dataDirLock == null
            && System.nanoTime() < until
            && stopRequested.getCount() > 0
            && !Files.exists(boltUri)) {
          Thread.sleep(250);
          dataDirLock = channel.tryLock();
        }
      }
    } catch (IOException e) {
      System.err.println("neo4j-local: cannot lock " + dataDir.toAbsolutePath() + ": " + describe(e));
      System.exit(EXIT_START_FAILED);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (dataDirLock == null) {
      System.err.println(
          "neo4j-local: data directory "
              + dataDir.toAbsolutePath()
              + " is already in use by another Neo4j process (launcher lock held). "
              + "Stop that process or use a different --data-dir.");
      System.exit(EXIT_DATA_DIR_LOCKED);
    }
  }

  /** Counts down the stop latch; during an import, halts instead (see `importing`). */
  static void requestStop(CountDownLatch stopRequested, String why) {
    stopRequested.countDown();
    if (importing) {
      System.err.println("neo4j-local: " + why + " during the import: halting, the import is abandoned");
      Runtime.getRuntime().halt(EXIT_IMPORT_FAILED);
    }
  }

  private Launcher() {}

  /** Parsed command line. */
  record Options(
      Path dataDir,
      int port,
      long pagecacheBytes,
      boolean watchStdin,
      Path configFile,
      Path importArgs,
      Path pluginDir) {}

  public static void main(String[] args) {
    // stdout is the protocol channel: keep a private handle and route anything else
    // (stray library prints) to stderr so the parent only ever sees our lines.
    PrintStream protocol = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    System.setOut(System.err);

    Options opts;
    try {
      opts = parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("neo4j-local: " + e.getMessage());
      System.err.println(usage());
      System.exit(EXIT_USAGE);
      return;
    }

    CountDownLatch stopRequested = new CountDownLatch(1);
    AtomicBoolean stopped = new AtomicBoolean(false);

    // SIGTERM / SIGINT: shut down from the main thread and exit 0 (a plain shutdown hook
    // would leave the JVM exiting with 143).
    installSignal("TERM", stopRequested);
    installSignal("INT", stopRequested);

    if (opts.watchStdin()) {
      Thread watcher =
          new Thread(
              () -> {
                InputStream in = System.in;
                byte[] buf = new byte[256];
                try {
                  while (in.read(buf) >= 0) {
                    // Input is ignored; we only care about EOF.
                  }
                } catch (IOException e) {
                  // A broken stdin also means the parent is gone.
                }
                System.err.println("neo4j-local: stdin closed (parent gone), shutting down");
                requestStop(stopRequested, "stdin closed");
              },
              "neo4j-local-stdin-watch");
      watcher.setDaemon(true);
      watcher.start();
    }

    lockDataDir(opts.dataDir(), stopRequested);
    if (opts.importArgs() != null) {
      runImport(opts, stopRequested);
      protocol.println(IMPORTED);
    }

    final DatabaseManagementService dbms;
    final int boltPort;
    try {
      Files.createDirectories(opts.dataDir());
      dbms = startWithRetry(opts);
    } catch (Throwable t) {
      reportStartFailure(t, opts.dataDir());
      return; // unreachable: reportStartFailure exits
    }
    try {
      boltPort = boundBoltPort(dbms);
    } catch (Throwable t) {
      System.err.println("neo4j-local: started but could not read the bound Bolt port: " + t);
      safeShutdown(dbms);
      System.exit(EXIT_START_FAILED);
      return;
    }

    // Fallback: if the JVM is exiting for any other reason (System.exit elsewhere, a signal
    // we could not install a handler for), still close the store cleanly.
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  if (stopped.compareAndSet(false, true)) {
                    removeBoltFiles(opts.dataDir()); // first: see lockDataDir
                    safeShutdown(dbms);
                    removeBoltFiles(opts.dataDir());
                    protocol.println(STOPPED);
                  }
                },
                "neo4j-local-shutdown-hook"));

    protocol.println(READY + " bolt://" + HOST + ":" + boltPort);

    try {
      stopRequested.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }

    int code = 0;
    if (stopped.compareAndSet(false, true)) {
      // First: a launcher started meanwhile waits for the lock instead of being refused.
      removeBoltFiles(opts.dataDir());
      try {
        dbms.shutdown();
        protocol.println(STOPPED);
      } catch (Throwable t) {
        System.err.println("neo4j-local: shutdown failed: " + describe(t));
        code = EXIT_STOP_FAILED;
      } finally {
        removeBoltFiles(opts.dataDir());
      }
    }
    System.exit(code);
  }

  /**
   * bolt.uri and bolt.password, which the Node side writes beside the store once this is
   * ready (names as in src/platform/neo4j-local.ts), go with this Neo4j: also when the
   * parent was killed (SIGKILL) and its own exit hook never ran. Done before the data
   * dir's lock is released at exit, so they cannot be a later launcher's.
   */
  static void removeBoltFiles(Path dataDir) {
    for (String name : List.of("bolt.uri", "bolt.password")) {
      try {
        Files.deleteIfExists(dataDir.resolve(name));
      } catch (IOException | RuntimeException e) {
        System.err.println("neo4j-local: cannot remove " + name + ": " + describe(e));
      }
    }
  }

  /**
   * Neo4j's offline bulk importer into this data dir, in this JVM before the DBMS starts:
   * one JVM start instead of two, and the store classes are loaded once. The parent may
   * start the launcher before its CSV files are ready: this waits for the arguments file
   * (`neo4j-admin` arguments, one per line; empty = nothing to import) to appear, so the
   * JVM boots meanwhile. The tool's output goes to stderr. A stop request while waiting or
   * importing exits without starting the DBMS.
   */
  static void runImport(Options opts, CountDownLatch stopRequested) {
    int code;
    try {
      ExecutionContext ctx =
          new ExecutionContext(
              opts.dataDir(),
              opts.dataDir().resolve("conf"),
              System.err,
              System.err,
              new DefaultFileSystemAbstraction());
      while (!Files.exists(opts.importArgs())) {
        if (stopRequested.await(20, TimeUnit.MILLISECONDS)) {
          System.exit(0);
        }
      }
      List<String> args = Files.readAllLines(opts.importArgs(), StandardCharsets.UTF_8);
      args.removeIf(String::isBlank);
      if (args.isEmpty()) {
        return;
      }
      Files.createDirectories(opts.dataDir());
      importing = true;
      if (stopRequested.getCount() == 0) {
        System.exit(0); // a stop that came before the flag was set
      }
      code = AdminTool.execute(ctx, args.toArray(String[]::new));
      importing = false;
    } catch (Throwable t) {
      System.err.println("neo4j-local: import failed: " + describe(t));
      code = -1;
    }
    if (code != 0) {
      System.err.println("neo4j-local: import failed (exit " + code + "); the DBMS was not started");
      System.exit(EXIT_IMPORT_FAILED);
    }
    if (stopRequested.getCount() == 0) {
      System.exit(0);
    }
  }

  /**
   * Port 0: pick a free port here rather than letting Bolt bind port 0, because the routing
   * table (neo4j:// URIs) advertises the configured port, which must be the real one. Another
   * process may grab the port between our probe and Neo4j's bind, so retry a few times.
   */
  static DatabaseManagementService startWithRetry(Options opts) throws IOException {
    int attempts = opts.port() == 0 ? 5 : 1;
    for (int attempt = 1; ; attempt++) {
      int port = opts.port() == 0 ? freePort() : opts.port();
      try {
        return start(opts, port);
      } catch (RuntimeException e) {
        if (attempt >= attempts || !isBindFailure(e) || isStoreLocked(e)) {
          throw e;
        }
        System.err.println("neo4j-local: port " + port + " was taken meanwhile, retrying");
      }
    }
  }

  /**
   * The Bolt password, from the parent's environment (never argv, which any local user can
   * read). Without it Bolt runs without auth: for a launcher started by hand only.
   */
  static final String PASSWORD_ENV = "NEO4J_LOCAL_PASSWORD";

  static DatabaseManagementService start(Options opts, int port) {
    String password = System.getenv(PASSWORD_ENV);
    boolean auth = password != null && !password.isEmpty();
    if (!auth) {
      System.err.println("neo4j-local: " + PASSWORD_ENV + " is not set: Bolt runs without auth");
    }
    // A new store takes the password before Bolt ever listens: no moment with neo4j/neo4j.
    boolean freshSystem =
        !Files.exists(opts.dataDir().resolve("data").resolve("databases").resolve("system"));
    if (auth && freshSystem) {
      setInitialPassword(opts.dataDir(), password);
    }
    DatabaseManagementServiceBuilder builder = new DatabaseManagementServiceBuilder(opts.dataDir());
    // Transaction memory, from the heap: one transaction may hold TX_MEMORY_SHARE of it, all
    // of them together TX_MEMORY_TOTAL_SHARE (Neo4j's own default for the total). Set before
    // --config, so a config file may choose other limits.
    builder
        .setConfig(GraphDatabaseSettings.memory_transaction_max_size, txMemoryMax(heapBytes()))
        .setConfig(
            GraphDatabaseSettings.memory_transaction_global_max_size, txMemoryTotal(heapBytes()));
    if (opts.configFile() != null) {
      builder.loadPropertiesFromFile(opts.configFile());
    }
    if (opts.pluginDir() != null) {
      builder.setConfig(GraphDatabaseSettings.plugin_dir, opts.pluginDir().toAbsolutePath());
    }
    builder
        // Bolt on loopback only, plain text. Auth even so: a web page in a local browser can
        // reach loopback Bolt through a WebSocket (Bolt accepts them; nothing checks Origin).
        .setConfig(BoltConnector.enabled, true)
        .setConfig(BoltConnector.listen_address, new SocketAddress(HOST, port))
        .setConfig(BoltConnector.advertised_address, new SocketAddress(HOST, port))
        .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
        .setConfig(GraphDatabaseSettings.auth_enabled, auth)
        // No lock-out after failed logins (3 by default, for 5 s, the right password
        // refused too): such a page could keep the service's own user locked out. The
        // password is 192 random bits, which no rate of guessing reaches (review, 12-07).
        .setConfig(GraphDatabaseSettings.auth_max_failed_attempts, 0)
        // Keep Bolt clients away from local files (LOAD CSV FROM 'file:…').
        .setConfig(GraphDatabaseSettings.allow_file_urls, false)
        .setConfig(HttpConnector.enabled, false)
        .setConfig(HttpsConnector.enabled, false)
        .setConfig(GraphDatabaseSettings.udc_enabled, false)
        .setConfig(GraphDatabaseSettings.pagecache_memory, opts.pagecacheBytes())
        // Transactions: a runaway query or lock wait fails instead of hanging forever.
        .setConfig(GraphDatabaseSettings.transaction_timeout, Duration.ofMinutes(15))
        // Timeouts are enforced by a monitor that looks every 2 s by default: a 10 s limit
        // could end at 12 s. Every 200 ms it costs a walk over the open transactions.
        .setConfig(GraphDatabaseSettings.transaction_monitor_check_interval, Duration.ofMillis(200))
        .setConfig(GraphDatabaseSettings.lock_acquisition_timeout, Duration.ofMinutes(2))
        // Keep the disk footprint small: many short-lived test databases share one disk.
        .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
        .setConfig(GraphDatabaseSettings.logical_log_rotation_threshold, 64L * 1024 * 1024)
        .setConfig(GraphDatabaseSettings.keep_logical_logs, "2 files")
        // Bolt's Netty shutdown otherwise idles through two 5 s quiet periods; connections
        // are already closed by then, so a short quiet period is safe and makes stop() ~1 s.
        .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0)
        .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_timeout, Duration.ofSeconds(5));
    DatabaseManagementService dbms = builder.build();
    try {
      if (auth && !freshSystem) {
        // A store started before keeps its last password until here; each start sets a new one.
        setPassword(dbms, password);
      }
      requireDefaultDatabaseOnline(dbms);
      // With --plugin-dir Neo4j loads them from there, as any other Neo4j would.
      if (opts.pluginDir() == null) {
        registerProcedures(dbms);
      }
    } catch (RuntimeException e) {
      safeShutdown(dbms);
      throw e;
    }
    return dbms;
  }

  /**
   * Sets user neo4j's password on a store started before. Neo4j refuses a password equal to
   * the current one, which is already what was asked: a retry after a port taken meanwhile
   * (the first attempt set the initial password before Bolt failed to bind), or a store
   * restarted with the same password.
   */
  static void setPassword(DatabaseManagementService dbms, String password) {
    try {
      dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME)
          .executeTransactionally(
              "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED",
              Map.of("password", password));
    } catch (RuntimeException e) {
      if (!isSamePassword(e)) {
        throw e;
      }
    }
  }

  /**
   * A default database that fails to start (a corrupt store, one from a newer Neo4j) is
   * logged and marked failed by Neo4j, and build() returns: Bolt would answer, every query
   * would fail as unavailable (retried by the driver for 30 s) and the reason would be in
   * logs/debug.log only. Its status message, here, fails the start instead.
   */
  static void requireDefaultDatabaseOnline(DatabaseManagementService dbms) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      Map<String, Object> row =
          dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME)
              .executeTransactionally(
                  "SHOW DEFAULT DATABASE YIELD name, currentStatus, statusMessage",
                  Map.of(),
                  r -> r.hasNext() ? r.next() : Map.<String, Object>of());
      Object status = row.get("currentStatus");
      if ("online".equals(status)) {
        return;
      }
      if (!"starting".equals(status) || System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "database " + row.get("name") + " is " + status + ": " + row.get("statusMessage")
                + " (more in logs/debug.log)");
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while database " + row.get("name") + " starts", e);
      }
    }
  }

  static boolean isSamePassword(Throwable t) {
    return anyCause(
        t, c -> String.valueOf(c.getMessage()).contains("Old password and new password cannot be the same"));
  }

  /** Whether `t` or any of its causes matches. */
  static boolean anyCause(Throwable t, Predicate<Throwable> matches) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (matches.test(c)) return true;
    }
    return false;
  }

  /** `neo4j-admin dbms set-initial-password`, in this JVM, for a store not started before. */
  static void setInitialPassword(Path dataDir, String password) {
    try {
      Files.createDirectories(dataDir);
      ExecutionContext ctx =
          new ExecutionContext(
              dataDir,
              dataDir.resolve("conf"),
              System.err,
              System.err,
              new DefaultFileSystemAbstraction());
      // "--": a password that begins with '-' is still the password, not an option.
      int code =
          AdminTool.execute(ctx, new String[] {"dbms", "set-initial-password", "--", password});
      if (code != 0) {
        throw new IllegalStateException("set-initial-password failed (exit " + code + ")");
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot prepare " + dataDir + ": " + e.getMessage(), e);
    }
  }

  /**
   * Share of the heap one transaction's tracked memory may use (db.memory.transaction.max):
   * 1 GiB at the default 2g (G1). The largest legitimate transaction, a 50,000-row part of
   * `coterie import`, was seen at 414 MiB (neo4j-local/README.md).
   */
  static final double TX_MEMORY_SHARE = 0.5;

  /** Share of the heap all transactions together may use (dbms.memory.transaction.total.max). */
  static final double TX_MEMORY_TOTAL_SHARE = 0.7;

  /** The JVM's maximum heap (-Xmx, less what the collector keeps back). */
  static long heapBytes() {
    return Runtime.getRuntime().maxMemory();
  }

  static long txMemoryMax(long heap) {
    return (long) (heap * TX_MEMORY_SHARE);
  }

  static long txMemoryTotal(long heap) {
    return (long) (heap * TX_MEMORY_TOTAL_SHARE);
  }

  /** Coterie's own read procedures (a Neo4j started elsewhere may lack them; callers check). */
  static void registerProcedures(DatabaseManagementService dbms) {
    GraphDatabaseAPI system =
        (GraphDatabaseAPI) dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
    LinkageExtract.mayCollect = true; // this JVM serves Coterie alone
    try {
      system.getDependencyResolver().resolveDependency(GlobalProcedures.class)
          .registerProcedure(LinkageExtract.class);
    } catch (ProcedureException e) {
      throw new IllegalStateException("cannot register Coterie's procedures: " + e.getMessage(), e);
    }
  }

  /** Reads the port Bolt actually bound (differs from the requested one when it was 0). */
  static int boundBoltPort(DatabaseManagementService dbms) {
    GraphDatabaseService db = dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
    ConnectorPortRegister register =
        ((GraphDatabaseAPI) db).getDependencyResolver().resolveDependency(ConnectorPortRegister.class);
    HostnamePort address = register.getLocalAddress(ConnectorType.BOLT);
    if (address == null || address.getPort() <= 0) {
      throw new IllegalStateException("Bolt connector did not register a port");
    }
    return address.getPort();
  }

  /** A currently free loopback port (the OS picks it). */
  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(HOST, 0));
      return socket.getLocalPort();
    }
  }

  static boolean isBindFailure(Throwable t) {
    return anyCause(
        t,
        c -> {
          String msg = String.valueOf(c.getMessage()).toLowerCase(Locale.ROOT);
          return c instanceof BindException
              || msg.contains("address already in use")
              || msg.contains("port is already in use");
        });
  }

  private static void installSignal(String name, CountDownLatch stopRequested) {
    try {
      sun.misc.Signal.handle(
          new sun.misc.Signal(name), sig -> requestStop(stopRequested, "SIG" + name));
    } catch (Throwable t) {
      System.err.println("neo4j-local: cannot handle SIG" + name + " (" + t + "); relying on the shutdown hook");
    }
  }

  private static void safeShutdown(DatabaseManagementService dbms) {
    try {
      dbms.shutdown();
    } catch (Throwable t) {
      System.err.println("neo4j-local: shutdown failed: " + describe(t));
    }
  }

  private static void reportStartFailure(Throwable t, Path dataDir) {
    if (isStoreLocked(t)) {
      System.err.println(
          "neo4j-local: data directory "
              + dataDir.toAbsolutePath()
              + " is already in use by another Neo4j process (store lock held). "
              + "Stop that process or use a different --data-dir.");
      System.err.println("neo4j-local: cause: " + describe(t));
      System.exit(EXIT_DATA_DIR_LOCKED);
    }
    System.err.println("neo4j-local: failed to start Neo4j: " + describe(t));
    if (System.getenv("NEO4J_LOCAL_DEBUG") != null) {
      t.printStackTrace(System.err);
    } else {
      System.err.println(
          "neo4j-local: (set NEO4J_LOCAL_DEBUG=1 for the stack trace; Neo4j's own log is in "
              + dataDir.resolve("logs").toAbsolutePath()
              + ")");
    }
    System.exit(EXIT_START_FAILED);
  }

  /** True when any cause in the chain is Neo4j's store/file lock failure. */
  static boolean isStoreLocked(Throwable t) {
    return anyCause(
        t,
        c -> {
          String cls = c.getClass().getName();
          String msg = String.valueOf(c.getMessage()).toLowerCase(Locale.ROOT);
          return cls.endsWith("FileLockException")
              || cls.endsWith("StoreLockException")
              || msg.contains("already locked")
              || msg.contains("unable to obtain lock");
        });
  }

  /** The chain of causes as one readable line, innermost last. */
  static String describe(Throwable t) {
    StringBuilder sb = new StringBuilder();
    int depth = 0;
    for (Throwable c = t; c != null && depth < 8; c = c.getCause() == c ? null : c.getCause(), depth++) {
      if (sb.length() > 0) {
        sb.append(" <- caused by: ");
      }
      sb.append(c.getClass().getSimpleName());
      if (c.getMessage() != null) {
        sb.append(": ").append(c.getMessage().replace('\n', ' '));
      }
    }
    return sb.toString();
  }

  static Options parse(String[] args) {
    Path dataDir = null;
    int port = 0;
    long pagecache = parseBytes("128m");
    boolean watchStdin = true;
    Path configFile = null;
    Path importArgs = null;
    Path pluginDir = null;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--data-dir" -> dataDir = Path.of(value(args, ++i, a));
        case "--port" -> {
          String v = value(args, ++i, a);
          try {
            port = Integer.parseInt(v);
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--port must be a number, got '" + v + "'");
          }
          if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--port must be 0..65535, got " + port);
          }
        }
        case "--pagecache" -> pagecache = parseBytes(value(args, ++i, a));
        case "--config" -> configFile = Path.of(value(args, ++i, a));
        case "--import" -> importArgs = Path.of(value(args, ++i, a));
        case "--plugin-dir" -> pluginDir = Path.of(value(args, ++i, a));
        case "--ignore-stdin" -> watchStdin = false;
        case "--help", "-h" -> {
          System.err.println(usage());
          System.exit(0);
        }
        default -> throw new IllegalArgumentException("unknown argument '" + a + "'");
      }
    }
    if (dataDir == null) {
      throw new IllegalArgumentException("--data-dir is required");
    }
    return new Options(dataDir, port, pagecache, watchStdin, configFile, importArgs, pluginDir);
  }

  private static String value(String[] args, int i, String flag) {
    if (i >= args.length) {
      throw new IllegalArgumentException(flag + " needs a value");
    }
    return args[i];
  }

  /** "512m", "1g", "2048k" or a plain byte count. */
  static long parseBytes(String s) {
    String v = s.trim().toLowerCase(Locale.ROOT);
    if (v.endsWith("b")) {
      v = v.substring(0, v.length() - 1);
    }
    long mult = 1;
    if (!v.isEmpty()) {
      switch (v.charAt(v.length() - 1)) {
        case 'k' -> mult = 1024L;
        case 'm' -> mult = 1024L * 1024;
        case 'g' -> mult = 1024L * 1024 * 1024;
        default -> mult = 1;
      }
      if (mult != 1) {
        v = v.substring(0, v.length() - 1);
      }
    }
    try {
      long n = Long.parseLong(v.trim());
      if (n <= 0) {
        throw new NumberFormatException();
      }
      return n * mult;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("invalid size '" + s + "' (use e.g. 128m, 1g)");
    }
  }

  static String usage() {
    return "usage: java --add-opens=java.base/java.nio=ALL-UNNAMED"
        + " --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED"
        + " -jar neo4j-local.jar --data-dir DIR [--port N (0 = any free port)] [--pagecache SIZE]"
        + " [--config neo4j.conf] [--import ARGS_FILE] [--plugin-dir DIR] [--ignore-stdin]";
  }
}

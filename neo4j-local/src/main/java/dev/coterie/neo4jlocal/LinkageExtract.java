/*
 * coterie.linkageAccountsPage: one page of a linkage run's extract, packed as bytes.
 *
 * It returns what cypher/linkage/read-accounts-page.cypher returns (the same accounts, in
 * the same order, with the same facts and links) packed, in one record, instead of one Bolt
 * record per account. Reading an account's relationships through the Core API and packing
 * them is about a third of the Cypher query's CPU here, and the service decodes the bytes
 * far faster than Bolt's nested lists. src/linkage/extract-packed.ts is the reader; the two
 * change together (FORMAT). A Neo4j without this procedure gets the Cypher query.
 *
 * Layout: u8 FORMAT, varint accounts (padded to 5 bytes), then per account
 *   str id, num signupAt, num firstSeen, num lastSeen, num requests,
 *   nums hourKeys, nums hourCounts, str emailDomain, str org,
 *   per link kind in KINDS order: varint n, n × (str value, num count[, str subnet for ip]),
 *   varint models, n × (str name, num count, num firstUse, nums hourKeys, nums hourCounts),
 *   varint capabilities, n × (str name, num count)
 * with varint, num, str and nums as Writer writes them. Values of a type ingest never
 * writes (a text count, a numeric model name) fail the page, as they fail the Cypher
 * query's reader; numbers arrive as the driver would give them (NaN stays NaN, an integer
 * past 2^53 - 1 is infinite). Varints and deltas keep the hour
 * series, most of a page, small (370 MB of fixed-width numbers at 1M accounts). The page
 * travels as a list of base64 strings, one per chunk of its bytes (see Writer.base64Chunks);
 * the reader decodes and joins them.
 */
package dev.coterie.neo4jlocal;

import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.neo4j.graphdb.Direction;
import org.neo4j.graphdb.Node;
import org.neo4j.graphdb.Relationship;
import org.neo4j.graphdb.RelationshipType;
import org.neo4j.graphdb.Result;
import org.neo4j.graphdb.Transaction;
import org.neo4j.procedure.Context;
import org.neo4j.procedure.Description;
import org.neo4j.procedure.Mode;
import org.neo4j.procedure.Name;
import org.neo4j.procedure.Procedure;

public final class LinkageExtract {
  /**
   * Bumped whenever the layout or the procedure's signature changes; the service uses the
   * procedure only when this is the format it reads (a stale plugin jar gets Cypher).
   */
  public static final int FORMAT = 4;

  /**
   * Link kinds in the order the page carries them: the relationship, the identifier's value
   * property, and the kind's name in notBefore (src/linkage/link-age.ts).
   */
  private static final String[][] KINDS = {
    {"PAID_WITH", "fingerprint", "payment"},
    {"USED_DEVICE", "fingerprint", "device"},
    {"CONNECTED_FROM", "address", "ip"},
    {"SENT", "hash", "prompt"},
    {"HAS_EMAIL_DOMAIN", "name", "email_domain"},
    {"IN_ORG", "id", "org"},
  };

  private static final int IP = 2;

  private static final RelationshipType USED_MODEL = RelationshipType.withName("USED_MODEL");
  private static final RelationshipType REQUESTED = RelationshipType.withName("REQUESTED");
  private static final RelationshipType[] ALL_TYPES;

  static {
    ALL_TYPES = new RelationshipType[KINDS.length + 2];
    for (int i = 0; i < KINDS.length; i++) {
      ALL_TYPES[i] = RelationshipType.withName(KINDS[i][0]);
    }
    ALL_TYPES[KINDS.length] = USED_MODEL;
    ALL_TYPES[KINDS.length + 1] = REQUESTED;
  }

  // The same index-backed page as the Cypher query: id order, after a cursor.
  private static final String PAGE =
      "MATCH (a:Account) WHERE a.id > $after WITH a ORDER BY a.id ASC LIMIT $limit RETURN a";

  @Context public Transaction tx;

  public static final class Page {
    /** the packed page: its chunks, each base64 */
    public List<String> page;
    /** the page's last account id: the cursor for the next page (null: no accounts) */
    public String lastId;
    /** whether accounts may follow lastId (the page is full, or it stopped at maxBytes) */
    public boolean more;

    /** links left out of the page as aged (lastSeen before notBefore of their kind) */
    public long aged;

    Page(List<String> page, String lastId, boolean more, long aged) {
      this.page = page;
      this.lastId = lastId;
      this.more = more;
      this.aged = aged;
    }
  }

  public static final class Format {
    public long format = FORMAT;
  }

  @Procedure(name = "coterie.linkageFormat", mode = Mode.READ)
  @Description("The layout version of coterie.linkageAccountsPage's pages.")
  public Stream<Format> format() {
    return Stream.of(new Format());
  }

  public static final class Heap {
    public long before;
    public long after;

    Heap(long before, long after) {
      this.before = before;
      this.after = after;
    }
  }

  /**
   * Called by a linkage run when extract starts and once it has read everything: Neo4j
   * then does little while its page cache fills and while the runner builds its graph, the
   * run's largest memory, and a heap grown by earlier writes or by extract is only given
   * back by a collection (G1's full collection shrinks the heap to its live part; the
   * parallel collector keeps it). Two pauses per run, instead of a timer that would
   * collect an idle JVM every few seconds all day. Only in the launcher's own JVM: with this
   * jar as a plugin of a shared Neo4j it does nothing (a full pause there is not ours to take).
   */
  @Procedure(name = "coterie.releaseHeap", mode = Mode.READ)
  @Description(
      "In the Coterie launcher's JVM: collects garbage now. Returns the committed heap in bytes"
          + " before and after (equal where it did nothing).")
  public Stream<Heap> releaseHeap() {
    Runtime rt = Runtime.getRuntime();
    long before = rt.totalMemory();
    if (mayCollect) System.gc();
    return Stream.of(new Heap(before, rt.totalMemory()));
  }

  /** Set by Launcher.registerProcedures: true only when the launcher runs this JVM. */
  static volatile boolean mayCollect = false;

  @Procedure(name = "coterie.linkageAccountsPage", mode = Mode.READ)
  @Description(
      "One page of accounts for a linkage run, packed (see LinkageExtract.java): at most limit"
          + " accounts after the id `after`, fewer once the page holds maxBytes; links whose"
          + " lastSeen is before notBefore[kind] are left out.")
  public Stream<Page> accountsPage(
      @Name("after") String after,
      @Name("limit") long limit,
      @Name("maxBytes") long maxBytes,
      @Name("notBefore") Map<String, Object> notBefore) {
    double[] since = new double[KINDS.length];
    for (int k = 0; k < KINDS.length; k++) {
      Object v = notBefore == null ? null : notBefore.get(KINDS[k][2]);
      since[k] = v instanceof Number n ? n.doubleValue() : Double.NEGATIVE_INFINITY;
    }
    long[] aged = new long[1];
    Writer body = new Writer();
    body.reserveHeader();
    int accounts = 0;
    String lastId = null;
    boolean full = false;
    try (Result rows = tx.execute(PAGE, Map.of("after", after, "limit", limit))) {
      // A byte budget besides the count: a page is built whole in this heap, so a large
      // limit must not make one value the heap cannot hold.
      while (rows.hasNext() && !full) {
        Object id = writeAccount(body, (Node) rows.next().get("a"), since, aged);
        lastId = id instanceof String s ? s : String.valueOf(id);
        accounts++;
        full = body.size() >= maxBytes;
      }
    }
    body.patchHeader(accounts);
    return Stream.of(new Page(body.base64Chunks(), lastId, full || accounts == limit, aged[0]));
  }

  @SuppressWarnings("unchecked")
  private static Object writeAccount(Writer out, Node a, double[] since, long[] aged) {
    Map<String, Object> p = a.getAllProperties();
    out.str(p.get("id"));
    out.num(p.get("signupAt"));
    out.num(p.get("firstSeen"));
    out.num(p.get("lastSeen"));
    out.num(p.get("requests"));
    out.nums(p.get("hourKeys"));
    out.nums(p.get("hourCounts"));
    out.str(p.get("emailDomain"));
    out.str(p.get("org"));

    List<Relationship>[] byKind = new List[KINDS.length + 2];
    for (int i = 0; i < byKind.length; i++) {
      byKind[i] = new ArrayList<>(2);
    }
    // One walk over the account's relationships, as the Cypher query's one expansion.
    for (Relationship r : a.getRelationships(Direction.OUTGOING, ALL_TYPES)) {
      String type = r.getType().name();
      for (int i = 0; i < ALL_TYPES.length; i++) {
        if (ALL_TYPES[i].name().equals(type)) {
          if (i < KINDS.length && isAged(r, since[i])) aged[0]++;
          else byKind[i].add(r);
          break;
        }
      }
    }
    for (int k = 0; k < KINDS.length; k++) {
      out.varint(byKind[k].size());
      for (Relationship r : byKind[k]) {
        Node x = r.getEndNode();
        if (k == IP) {
          // One walk of the node's property chain for both (getProperty walks it each time).
          Map<String, Object> ip = x.getProperties("address", "subnet");
          out.str(ip.get("address"));
          out.num(r.getProperty("count", null));
          out.str(ip.get("subnet"));
        } else {
          out.str(x.getProperty(KINDS[k][1], null));
          out.num(r.getProperty("count", null));
        }
      }
    }
    List<Relationship> models = byKind[KINDS.length];
    out.varint(models.size());
    for (Relationship r : models) {
      Map<String, Object> use = r.getAllProperties();
      out.name(r.getEndNode().getProperty("name", null));
      out.num(use.get("count"));
      out.num(use.get("firstUse"));
      out.nums(use.get("hourKeys"));
      out.nums(use.get("hourCounts"));
    }
    List<Relationship> capabilities = byKind[KINDS.length + 1];
    out.varint(capabilities.size());
    for (Relationship r : capabilities) {
      out.name(r.getEndNode().getProperty("name", null));
      out.num(r.getProperty("count", null));
    }
    return p.get("id");
  }

  /**
   * Whether a link is older than its kind allows, as the Cypher query's `r.lastSeen <
   * notBefore`: a kind that never ages, or a link without a numeric lastSeen, is kept.
   */
  private static boolean isAged(Relationship r, double since) {
    if (since == Double.NEGATIVE_INFINITY) return false;
    return r.getProperty("lastSeen", null) instanceof Number n && n.doubleValue() < since;
  }

  /**
   * The page's bytes, in chunks, with varints (LEB128, as protobuf) its only integers.
   *
   * <p>Chunks, not one growing buffer: a page is up to maxBytes (16 MiB), and any array over
   * half a G1 region (512 KiB in a 2 GiB heap) is a humongous object, placed outside the
   * young generation in a run of free regions, which G1 commits more heap for when it has
   * none. With one buffer (doubled as it filled), its base64 and its string, a 1M extract
   * set off up to 127 collections for humongous allocations; with chunks, none
   * (bench/RESULTS.md, "Session of 12-06 11:24–"). A value over a chunk gets a chunk of
   * its own size (ingest writes no such value).
   */
  static final class Writer {
    /** 192 KiB: its base64, and the string of it, are 256 KiB, under half a region too. */
    static final int CHUNK = 192 << 10;

    /** Integers at or above this (2^50) go as f64: JavaScript reads its numbers exactly. */
    private static final long EXACT = 1L << 50;

    /** Number.MAX_SAFE_INTEGER */
    private static final long MAX_SAFE = (1L << 53) - 1;

    private static final int HEADER = 6;

    private final List<ByteBuffer> ended = new ArrayList<>();
    private long endedBytes = 0;
    private ByteBuffer buf = chunk(CHUNK);

    private static ByteBuffer chunk(int capacity) {
      return ByteBuffer.allocate(capacity).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Ends the chunk when n more bytes would not fit: a value never straddles two. */
    private void room(int n) {
      if (buf.remaining() < n) {
        buf.flip();
        ended.add(buf);
        endedBytes += buf.limit();
        buf = chunk(Math.max(CHUNK, n));
      }
    }

    void u8(int v) {
      room(1);
      buf.put((byte) v);
    }

    /** v in [0, 2^63) */
    void varint(long v) {
      room(10);
      while ((v & ~0x7FL) != 0) {
        buf.put((byte) ((v & 0x7F) | 0x80));
        v >>>= 7;
      }
      buf.put((byte) v);
    }

    private static boolean integral(Object v) {
      return v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte;
    }

    private static boolean exactInteger(Object v) {
      if (!integral(v)) {
        return false;
      }
      long x = ((Number) v).longValue();
      return x > -EXACT && x < EXACT;
    }

    /** A number as the service's driver reads it: integers past 2^53 - 1 are infinite. */
    private static double asJavaScript(Object v) {
      if (!(v instanceof Number n)) {
        throw new IllegalArgumentException(
            "expected a number, got " + v.getClass().getSimpleName() + " (Coterie's data model)");
      }
      if (integral(v)) {
        long x = n.longValue();
        return x > MAX_SAFE ? Double.POSITIVE_INFINITY : x < -MAX_SAFE ? Double.NEGATIVE_INFINITY : x;
      }
      return n.doubleValue();
    }

    /**
     * varint 0: missing; n + 2 for an integer 0 ≤ n < 2^50; else 1 and an f64. Anything
     * but a number fails the page, as it fails the Cypher query's reader.
     */
    void num(Object v) {
      if (v == null) {
        varint(0);
      } else if (exactInteger(v) && ((Number) v).longValue() >= 0) {
        varint(((Number) v).longValue() + 2);
      } else {
        double d = asJavaScript(v);
        varint(1);
        room(8);
        buf.putDouble(d);
      }
    }

    /** varint byte length + 1 and UTF-8; 0: null or not a string (links skip those) */
    void str(Object v) {
      if (!(v instanceof String s)) {
        varint(0);
        return;
      }
      byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
      varint(utf8.length + 1L);
      room(utf8.length);
      buf.put(utf8);
    }

    /** A model's or capability's name: a string or missing; anything else fails the page. */
    void name(Object v) {
      if (v != null && !(v instanceof String)) {
        throw new IllegalArgumentException(
            "expected a name, got " + v.getClass().getSimpleName() + " (Coterie's data model)");
      }
      str(v);
    }

    /**
     * A numeric array property (anything but an array is empty): varint n, then type 0
     * and each element's difference from the one before, zigzag varints (hour keys
     * ascend, counts are small), or type 1 and n f64 when an element is not an integer
     * below 2^50. An element that is not a number fails the page.
     */
    void nums(Object v) {
      // byte[] too is empty: the driver hands it over as bytes, which the Cypher path's
      // reader does not take for numbers.
      int n = v != null && v.getClass().isArray() && !(v instanceof byte[]) ? Array.getLength(v) : 0;
      boolean ints = true;
      for (int i = 0; i < n && ints; i++) {
        ints = exactInteger(Array.get(v, i));
      }
      varint(n);
      u8(ints ? 0 : 1);
      long before = 0;
      for (int i = 0; i < n; i++) {
        Object x = Array.get(v, i);
        if (ints) {
          long d = ((Number) x).longValue() - before;
          before += d;
          varint((d << 1) ^ (d >> 63));
        } else {
          double d = asJavaScript(x);
          room(8);
          buf.putDouble(d);
        }
      }
    }

    /** Room at the page's start for FORMAT and the account count, written last (patchHeader). */
    void reserveHeader() {
      if (endedBytes != 0 || buf.position() != 0) {
        throw new IllegalStateException("the header goes first");
      }
      buf.position(HEADER);
    }

    /** FORMAT, then the count as a varint padded to 5 bytes (LEB128 allows the padding). */
    void patchHeader(int count) {
      ByteBuffer first = ended.isEmpty() ? buf : ended.get(0);
      first.put(0, (byte) FORMAT);
      for (int i = 0; i < 4; i++) {
        first.put(1 + i, (byte) (((count >>> (7 * i)) & 0x7F) | 0x80));
      }
      first.put(5, (byte) ((count >>> 28) & 0x7F));
    }

    long size() {
      return endedBytes + buf.position();
    }

    /**
     * Each chunk as base64 (the JavaScript driver decodes a string natively, a byte array
     * one byte at a time). Chunks end where a value would not fit, so not every one is a
     * multiple of 3: the reader decodes each, then joins the bytes.
     */
    List<String> base64Chunks() {
      List<String> out = new ArrayList<>(ended.size() + 1);
      for (ByteBuffer b : ended) {
        out.add(base64(b.array(), b.limit()));
      }
      out.add(base64(buf.array(), buf.position()));
      return out;
    }

    private static String base64(byte[] bytes, int length) {
      ByteBuffer text = Base64.getEncoder().encode(ByteBuffer.wrap(bytes, 0, length));
      return new String(text.array(), 0, text.limit(), StandardCharsets.ISO_8859_1);
    }
  }
}

package eu.returns.gateway.tools.avrogolden;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.Decoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.io.JsonEncoder;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;

/**
 * Golden vectors for the gateway's Avro single-object encoding, computed by Apache Avro's Java library.
 *
 * <p>The Python codec is built on fastavro; this tool is the independent second implementation it is checked
 * against. Modes:
 *
 * <ul>
 *   <li>{@code encode --schemas DIR --events FILE [--out DIR]}: read events given in Avro JSON encoding (one
 *       object per line), write each with {@link BinaryMessageEncoder} and print the Parsing Canonical Form, the
 *       fingerprint and the bytes; with {@code --out}, also write {@code soe.tsv} (event type, tab, hex) and
 *       {@code fingerprint.json} there.
 *   <li>{@code decode --schemas DIR [--keep-going] [FILE...]}: read single-object bytes as hex, one message a
 *       line, from the files or stdin, decode each with {@link BinaryMessageDecoder} and print it as Avro JSON,
 *       one line each. Any error (bad hex or header, unknown fingerprint, corrupt or trailing bytes) exits with
 *       status 1: at once, or with {@code --keep-going} after reporting every failing line on stderr.
 *   <li>{@code pcf --schemas DIR}: print the Parsing Canonical Form only.
 * </ul>
 *
 * <p>All data is handled as {@link GenericData} without logical-type conversions, so values pass through as
 * their underlying Avro types (dates as ints, decimals as bytes, ...), exactly as the Avro JSON encoding has them.
 */
public final class AvroGolden {

  static final String DEFAULT_ROOT = "eu.returns.gateway.v1.CaseEvent";
  private static final Set<String> FLAGS = Set.of("keep-going");
  private static final Set<String> OPTIONS = Set.of("schemas", "root", "events", "out");
  private static final HexFormat HEX = HexFormat.of();
  // Jackson is Avro's own JSON library (a dependency of avro itself), so it is on the classpath anyway.
  private static final ObjectMapper JSON = new ObjectMapper();

  private AvroGolden() {}

  public static void main(String[] args) {
    try {
      System.exit(run(args, System.out));
    } catch (Failure e) {
      System.err.println("avro-golden: " + e.getMessage());
      System.exit(1);
    } catch (Exception e) {
      // Fail loudly: the stack trace names the Avro class that rejected the input.
      System.err.println("avro-golden: unexpected error");
      e.printStackTrace(System.err);
      System.exit(1);
    }
  }

  static int run(String[] args, PrintStream out) throws Exception {
    if (args.length == 0) {
      throw new Failure("usage: avro-golden encode|decode|pcf --schemas DIR [options]");
    }
    String mode = args[0];
    Map<String, String> opts = new LinkedHashMap<>();
    Set<String> flags = new HashSet<>();
    List<String> files = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      if (args[i].startsWith("--") && FLAGS.contains(args[i].substring(2))) {
        flags.add(args[i].substring(2));
      } else if (args[i].startsWith("--")) {
        if (i + 1 >= args.length) {
          throw new Failure("option " + args[i] + " needs a value");
        }
        opts.put(args[i].substring(2), args[++i]);
      } else {
        files.add(args[i]);
      }
    }
    for (String key : opts.keySet()) {
      if (!OPTIONS.contains(key)) {
        throw new Failure("unknown option --" + key);
      }
    }
    Path schemaDir = Path.of(opts.getOrDefault("schemas", "schemas/avro"));
    Schema schema = loadSchemas(schemaDir).get(opts.getOrDefault("root", DEFAULT_ROOT));
    if (schema == null) {
      throw new Failure("no type " + opts.getOrDefault("root", DEFAULT_ROOT) + " in " + schemaDir);
    }
    switch (mode) {
      case "encode":
        if (!opts.containsKey("events")) {
          throw new Failure("encode needs --events FILE");
        }
        encode(schema, Path.of(opts.get("events")), opts.containsKey("out") ? Path.of(opts.get("out")) : null, out);
        return 0;
      case "decode":
        return decode(schema, files, out, flags.contains("keep-going")) == 0 ? 0 : 1;
      case "pcf":
        out.println(SchemaNormalization.toParsingForm(schema));
        return 0;
      default:
        throw new Failure("unknown mode " + mode + " (encode, decode or pcf)");
    }
  }

  /**
   * Parses every {@code <fullname>.avsc} file of a folder with one {@link Schema.Parser}.
   *
   * <p>{@code Schema.Parser} resolves references as each file is parsed, so a file may only name types parsed
   * before it (Avro 1.12's new {@code SchemaParser} lifts that, but {@code Schema.Parser} is what existing
   * consumers use). Each file is therefore parsed after the files of the types it references: a depth-first walk
   * over the references of the one-type-per-file layout that fastavro's {@code load_schema} also reads.
   */
  static Map<String, Schema> loadSchemas(Path dir) throws IOException {
    Map<String, Path> byName = new LinkedHashMap<>();
    try (Stream<Path> paths = Files.list(dir)) {
      for (Path p : paths.filter(p -> p.toString().endsWith(".avsc")).sorted().toList()) {
        String name = p.getFileName().toString().replaceFirst("\\.avsc$", "");
        byName.put(name, p);
      }
    }
    if (byName.isEmpty()) {
      throw new Failure("no .avsc files in " + dir);
    }
    Schema.Parser parser = new Schema.Parser();
    Set<String> done = new HashSet<>();
    for (String name : byName.keySet()) {
      parseWithReferences(name, byName, parser, done, new HashSet<>());
    }
    Map<String, Schema> types = parser.getTypes();
    for (Map.Entry<String, Path> e : byName.entrySet()) {
      if (!types.containsKey(e.getKey())) {
        throw new Failure(e.getValue() + " does not define " + e.getKey() + " (files are named <fullname>.avsc)");
      }
    }
    return types;
  }

  private static void parseWithReferences(
      String name, Map<String, Path> byName, Schema.Parser parser, Set<String> done, Set<String> visiting)
      throws IOException {
    if (done.contains(name) || !byName.containsKey(name)) {
      // Not a file of ours: a primitive, a type defined inline, or a dangling reference the parser will report.
      return;
    }
    if (!visiting.add(name)) {
      throw new Failure("reference cycle across files through " + name + "; keep recursive types in one file");
    }
    JsonNode tree = JSON.readTree(byName.get(name).toFile());
    String namespace = tree.path("namespace").asText("");
    for (String ref : references(tree, namespace, new ArrayList<>())) {
      parseWithReferences(ref, byName, parser, done, visiting);
    }
    parser.parse(byName.get(name).toFile());
    done.add(name);
    visiting.remove(name);
  }

  /** Type names a schema JSON refers to, qualified with the enclosing namespace when they have no dot. */
  private static List<String> references(JsonNode node, String namespace, List<String> acc) {
    if (node.isTextual()) {
      String ref = node.asText();
      acc.add(ref.contains(".") || namespace.isEmpty() ? ref : namespace + "." + ref);
    } else if (node.isArray()) {
      node.forEach(branch -> references(branch, namespace, acc));
    } else if (node.isObject()) {
      String ns = node.has("namespace") ? node.get("namespace").asText() : namespace;
      if (node.has("type")) {
        references(node.get("type"), ns, acc);
      }
      for (String key : List.of("items", "values")) {
        if (node.has(key)) {
          references(node.get(key), ns, acc);
        }
      }
      if (node.has("fields")) {
        node.get("fields").forEach(f -> references(f.get("type"), ns, acc));
      }
    }
    return acc;
  }

  static String pcfSha256(String pcf) throws NoSuchAlgorithmException {
    return HEX.formatHex(MessageDigest.getInstance("SHA-256").digest(pcf.getBytes(StandardCharsets.UTF_8)));
  }

  /** The 64-bit fingerprint as the 8 little-endian bytes single-object encoding puts on the wire. */
  static byte[] littleEndian(long fp) {
    return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(fp).array();
  }

  private static void encode(Schema schema, Path events, Path outDir, PrintStream out) throws Exception {
    String pcf = SchemaNormalization.toParsingForm(schema);
    long fp = SchemaNormalization.parsingFingerprint64(schema);
    String fpHex = HEX.formatHex(littleEndian(fp));
    BinaryMessageEncoder<GenericRecord> encoder = new BinaryMessageEncoder<>(GenericData.get(), schema);
    GenericDatumReader<GenericRecord> reader = new GenericDatumReader<>(schema);

    Map<String, String> soe = new LinkedHashMap<>();
    int lineNo = 0;
    for (String line : Files.readAllLines(events, StandardCharsets.UTF_8)) {
      lineNo++;
      if (line.isBlank()) {
        continue;
      }
      String where = events + ":" + lineNo;
      GenericRecord record;
      try {
        Decoder in = DecoderFactory.get().jsonDecoder(schema, line);
        record = reader.read(null, in);
      } catch (Exception e) {
        throw new Failure(where + ": not a " + schema.getFullName() + " in Avro JSON encoding: " + causes(e), e);
      }
      // JsonDecoder skips unknown fields; re-encoding proves the line meant exactly this record.
      JsonNode back = JSON.readTree(toJson(schema, record));
      if (!back.equals(JSON.readTree(line))) {
        throw new Failure(where + ": the line does not round-trip through Avro JSON; Java reads it as " + back);
      }
      byte[] bytes = toArray(encoder.encode(record));
      String header = HEX.formatHex(bytes, 0, 10);
      if (!header.equals("c301" + fpHex)) {
        throw new Failure("BinaryMessageEncoder header " + header + " is not C3 01 + parsingFingerprint64 " + fpHex);
      }
      // Keyed by event type; a further example of the same type gets ".1", ".2", ... (its examples index).
      String type = String.valueOf(record.get("event_type"));
      String key = type;
      for (int n = 1; soe.containsKey(key); n++) {
        key = type + "." + n;
      }
      soe.put(key, HEX.formatHex(bytes));
    }

    out.println("avro-java " + avroVersion());
    out.println("parsing-canonical-form " + pcf);
    out.println("crc64-avro-le " + fpHex);
    out.println("pcf-sha256 " + pcfSha256(pcf));
    soe.forEach((k, v) -> out.println("soe " + k + " " + v));

    if (outDir != null) {
      Files.createDirectories(outDir);
      StringBuilder tsv = new StringBuilder();
      tsv.append("# Avro single-object encoding of each example event, written by Apache Avro Java ")
          .append(avroVersion())
          .append(" (tools/avro-golden). Regenerate; do not edit.\n");
      soe.forEach((k, v) -> tsv.append(k).append('\t').append(v).append('\n'));
      Files.writeString(outDir.resolve("soe.tsv"), tsv.toString(), StandardCharsets.UTF_8);

      ObjectNode fpJson = JSON.createObjectNode();
      fpJson.put("avro_java", avroVersion());
      fpJson.put("schema", schema.getFullName());
      fpJson.put("crc64_avro_le", fpHex);
      fpJson.put("parsing_fingerprint64", fp);
      fpJson.put("pcf_sha256", pcfSha256(pcf));
      fpJson.put("pcf_length", pcf.getBytes(StandardCharsets.UTF_8).length);
      Files.writeString(
          outDir.resolve("fingerprint.json"),
          JSON.writerWithDefaultPrettyPrinter().writeValueAsString(fpJson) + "\n",
          StandardCharsets.UTF_8);
    }
  }

  /** Decodes every line; returns the number of lines that failed (only with {@code keepGoing}, else throws). */
  private static int decode(Schema schema, List<String> files, PrintStream out, boolean keepGoing)
      throws IOException {
    BinaryMessageDecoder<GenericRecord> decoder = new BinaryMessageDecoder<>(GenericData.get(), schema);
    List<String> sources = files.isEmpty() ? List.of("-") : files;
    int failed = 0;
    for (String source : sources) {
      Reader r =
          source.equals("-")
              ? new InputStreamReader(System.in, StandardCharsets.UTF_8)
              : Files.newBufferedReader(Path.of(source), StandardCharsets.UTF_8);
      try (BufferedReader lines = new BufferedReader(r)) {
        Iterator<String> it = lines.lines().iterator();
        int lineNo = 0;
        while (it.hasNext()) {
          String line = it.next().strip();
          lineNo++;
          if (line.isEmpty() || line.startsWith("#")) {
            continue;
          }
          String where = (source.equals("-") ? "stdin" : source) + ":" + lineNo;
          try {
            out.println(toJson(schema, decodeOne(decoder, line, where)));
          } catch (Failure e) {
            if (!keepGoing) {
              throw e;
            }
            System.err.println("avro-golden: " + e.getMessage());
            failed++;
          }
        }
      }
    }
    out.flush();
    return failed;
  }

  private static GenericRecord decodeOne(BinaryMessageDecoder<GenericRecord> decoder, String line, String where) {
    byte[] bytes;
    try {
      bytes = HEX.parseHex(line);
    } catch (IllegalArgumentException e) {
      throw new Failure(where + ": not hex: " + e.getMessage(), e);
    }
    ByteArrayInputStream in = new ByteArrayInputStream(bytes);
    GenericRecord record;
    try {
      record = decoder.decode(in, null);
    } catch (Exception e) {
      throw new Failure(where + ": BinaryMessageDecoder rejected the message: " + causes(e), e);
    }
    // RawMessageDecoder reads with a direct (unbuffered) decoder, so what is left in the stream is unread.
    if (in.available() > 0) {
      throw new Failure(where + ": " + in.available() + " trailing bytes after the record");
    }
    return record;
  }

  private static String toJson(Schema schema, GenericRecord record) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    JsonEncoder enc = EncoderFactory.get().jsonEncoder(schema, buf);
    DatumWriter<GenericRecord> writer = new GenericDatumWriter<>(schema);
    writer.write(record, enc);
    enc.flush();
    return buf.toString(StandardCharsets.UTF_8);
  }

  /** An exception and its causes on one line: Avro wraps the telling error (e.g. an EOF) in a generic one. */
  static String causes(Throwable e) {
    StringBuilder b = new StringBuilder(e.toString());
    for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
      b.append(" <- ").append(c);
    }
    return b.toString();
  }

  private static byte[] toArray(ByteBuffer b) {
    byte[] a = new byte[b.remaining()];
    b.get(a);
    return a;
  }

  static String avroVersion() {
    String v = Schema.class.getPackage().getImplementationVersion();
    return v != null ? v : "unknown";
  }

  /** An expected failure: reported as one line on stderr, exit status 1. */
  static final class Failure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Failure(String message) {
      super(message);
    }

    Failure(String message, Throwable cause) {
      super(message, cause);
    }
  }
}

// The JVM service of the service workloads (seed 003 measures a Spring Boot service): GET /?key=N answers
// {"value": N}, as the Python one. Its start-up does what a framework's does before it serves:
//   1. class loading: every class of the modules a web framework touches is loaded and linked (a
//      framework's classpath scan; thousands of classes, from the runtime image jrt:/)
//   2. a warmed cache: the answers for the first CACHE keys are made before the first request
//   3. the request path is run until the JIT has compiled it
// then it listens. Run as: java -XX:-UsePerfData -cp DIR Server PORT
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

public final class Server {
    static final int CACHE = 200_000;
    static final List<String> MODULES =
            List.of("java.base", "java.logging", "java.xml", "java.sql", "java.net.http", "jdk.httpserver",
                    "java.naming", "java.management");
    static final Map<Integer, byte[]> cache = new HashMap<>();

    static byte[] answer(int key) {
        byte[] b = cache.get(key);
        return b != null ? b : ("{\"value\": " + key + "}").getBytes(StandardCharsets.UTF_8);
    }

    // The key of "key=N" in a query, or null.
    static Integer key(String query) {
        if (query == null) return null;
        for (String part : query.split("&")) {
            if (!part.startsWith("key=")) continue;
            try {
                return Integer.valueOf(part.substring(4));
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }

    static int loadClasses() throws IOException {
        FileSystem jrt = FileSystems.getFileSystem(URI.create("jrt:/"));
        ClassLoader loader = ClassLoader.getSystemClassLoader();
        int loaded = 0;
        for (String module : MODULES) {
            Path root = jrt.getPath("/modules", module);
            if (!Files.isDirectory(root)) continue;
            List<Path> classes;
            try (Stream<Path> all = Files.walk(root)) {
                classes = all.filter(p -> p.toString().endsWith(".class")).toList();
            }
            for (Path p : classes) {
                String name = root.relativize(p).toString();
                if (name.endsWith("module-info.class") || name.endsWith("package-info.class")) continue;
                name = name.substring(0, name.length() - ".class".length()).replace('/', '.');
                try {
                    Class.forName(name, false, loader);
                    ++loaded;
                } catch (Throwable t) {
                    // a class this runtime cannot link (a missing optional part): a framework skips it too
                }
            }
        }
        return loaded;
    }

    static void handle(HttpExchange ex) throws IOException {
        Integer k = key(ex.getRequestURI().getRawQuery());
        byte[] body = k == null ? "{\"error\": \"key must be a number\"}".getBytes(StandardCharsets.UTF_8)
                                : answer(k);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(k == null ? 400 : 200, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 8080;
        long t0 = System.nanoTime();
        int classes = loadClasses();
        for (int k = 0; k < CACHE; ++k) cache.put(k, ("{\"value\": " + k + "}").getBytes(StandardCharsets.UTF_8));
        long sum = 0;
        for (int i = 0; i < 300_000; ++i) sum += answer(key("key=" + (i % (2 * CACHE)))).length;
        HttpServer server = HttpServer.create(new InetSocketAddress(port), 64);
        server.createContext("/", Server::handle);
        server.start();
        System.out.printf("ready in %d ms: %d classes, %d cached answers (%d)%n", (System.nanoTime() - t0) / 1_000_000,
                classes, cache.size(), sum);
    }
}

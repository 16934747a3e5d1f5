#include "datasets/datasets.h"

#include <archive.h>
#include <archive_entry.h>
#include <sqlite3.h>

#include <cmath>
#include <fstream>
#include <memory>
#include <variant>

namespace ctrbench::datasets {
namespace {

// splitmix64 (Steele, Lea, Flood 2014): tiny, fast, and the same sequence on every platform,
// unlike the distributions of <random>.
struct Rng {
    std::uint64_t s;
    std::uint64_t next() {
        std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    std::int64_t range(std::int64_t lo, std::int64_t hi) {
        return lo + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(hi - lo + 1));
    }
    std::string alnum(std::size_t n) {
        static const char k[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        std::string out(n, ' ');
        for (auto& c : out) c = k[next() % 62];
        return out;
    }
    std::string text(std::int64_t lo, std::int64_t hi) { return alnum(static_cast<std::size_t>(range(lo, hi))); }
    double money(std::int64_t lo_cents, std::int64_t hi_cents) {
        return static_cast<double>(range(lo_cents, hi_cents)) / 100.0;
    }
};

struct Db {
    sqlite3* db = nullptr;
    ~Db() { sqlite3_close(db); }
    Status exec(const std::string& sql) {
        char* err = nullptr;
        if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
            std::string m = err ? err : "?";
            sqlite3_free(err);
            return fail_msg("sqlite: " + m + " in: " + sql.substr(0, 60));
        }
        return {};
    }
};

// One prepared INSERT with positional parameters, bound from a row of variants.
struct Insert {
    sqlite3_stmt* st = nullptr;
    ~Insert() { sqlite3_finalize(st); }
    Status row(std::initializer_list<std::variant<std::int64_t, double, std::string>> values) {
        int i = 1;
        for (const auto& v : values) {
            if (auto* n = std::get_if<std::int64_t>(&v))
                sqlite3_bind_int64(st, i, *n);
            else if (auto* d = std::get_if<double>(&v))
                sqlite3_bind_double(st, i, *d);
            else {
                const auto& s = std::get<std::string>(v);
                sqlite3_bind_text(st, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
            }
            ++i;
        }
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) return fail_msg(std::string("sqlite insert: ") + sqlite3_errstr(rc));
        return {};
    }
};

Result<std::unique_ptr<Insert>> prepare(Db& db, const std::string& table, int columns) {
    std::string sql = "INSERT INTO " + table + " VALUES (";
    for (int i = 0; i < columns; ++i) sql += i ? ",?" : "?";
    sql += ")";
    auto ins = std::make_unique<Insert>();
    if (sqlite3_prepare_v2(db.db, sql.c_str(), -1, &ins->st, nullptr) != SQLITE_OK)
        return fail_msg("sqlite prepare " + table + ": " + sqlite3_errmsg(db.db));
    return ins;
}

// The TPC-C schema (TPC Benchmark C, clause 1.3), types as SQLite has them.
constexpr const char* kSchema = R"(
CREATE TABLE warehouse (w_id INTEGER, w_name TEXT, w_street_1 TEXT, w_street_2 TEXT, w_city TEXT, w_state TEXT,
  w_zip TEXT, w_tax REAL, w_ytd REAL, PRIMARY KEY (w_id));
CREATE TABLE district (d_id INTEGER, d_w_id INTEGER, d_name TEXT, d_street_1 TEXT, d_street_2 TEXT, d_city TEXT,
  d_state TEXT, d_zip TEXT, d_tax REAL, d_ytd REAL, d_next_o_id INTEGER, PRIMARY KEY (d_w_id, d_id));
CREATE TABLE customer (c_id INTEGER, c_d_id INTEGER, c_w_id INTEGER, c_first TEXT, c_middle TEXT, c_last TEXT,
  c_street_1 TEXT, c_street_2 TEXT, c_city TEXT, c_state TEXT, c_zip TEXT, c_phone TEXT, c_since INTEGER,
  c_credit TEXT, c_credit_lim REAL, c_discount REAL, c_balance REAL, c_ytd_payment REAL, c_payment_cnt INTEGER,
  c_delivery_cnt INTEGER, c_data TEXT, PRIMARY KEY (c_w_id, c_d_id, c_id));
CREATE TABLE history (h_c_id INTEGER, h_c_d_id INTEGER, h_c_w_id INTEGER, h_d_id INTEGER, h_w_id INTEGER,
  h_date INTEGER, h_amount REAL, h_data TEXT);
CREATE TABLE new_order (no_o_id INTEGER, no_d_id INTEGER, no_w_id INTEGER, PRIMARY KEY (no_w_id, no_d_id, no_o_id));
CREATE TABLE orders (o_id INTEGER, o_d_id INTEGER, o_w_id INTEGER, o_c_id INTEGER, o_entry_d INTEGER,
  o_carrier_id INTEGER, o_ol_cnt INTEGER, o_all_local INTEGER, PRIMARY KEY (o_w_id, o_d_id, o_id));
CREATE TABLE order_line (ol_o_id INTEGER, ol_d_id INTEGER, ol_w_id INTEGER, ol_number INTEGER, ol_i_id INTEGER,
  ol_supply_w_id INTEGER, ol_delivery_d INTEGER, ol_quantity INTEGER, ol_amount REAL, ol_dist_info TEXT,
  PRIMARY KEY (ol_w_id, ol_d_id, ol_o_id, ol_number));
CREATE TABLE item (i_id INTEGER, i_im_id INTEGER, i_name TEXT, i_price REAL, i_data TEXT, PRIMARY KEY (i_id));
CREATE TABLE stock (s_i_id INTEGER, s_w_id INTEGER, s_quantity INTEGER, s_dist_01 TEXT, s_dist_02 TEXT,
  s_dist_03 TEXT, s_dist_04 TEXT, s_dist_05 TEXT, s_dist_06 TEXT, s_dist_07 TEXT, s_dist_08 TEXT, s_dist_09 TEXT,
  s_dist_10 TEXT, s_ytd INTEGER, s_order_cnt INTEGER, s_remote_cnt INTEGER, s_data TEXT, PRIMARY KEY (s_w_id, s_i_id));
)";

constexpr std::int64_t kEpoch = 1590969600;  // 2020-06-01: fixed dates keep the file identical

}  // namespace

const std::vector<TpccSize>& tpcc_sizes() {
    static const std::vector<TpccSize> sizes = {{"151.6kB", 151'600, 0.00105},
                                                {"536.6kB", 536'600, 0.0056},
                                                {"2.6MB", 2'600'000, 0.0305},
                                                {"11.9MB", 11'900'000, 0.1425},
                                                {"111.6MB", 111'600'000, 1.344}};
    return sizes;
}

const std::vector<int>& file_counts() {
    static const std::vector<int> counts = {10, 100, 1000, 10000, 100000};
    return counts;
}

// `progress` hears the fraction done: items and stock are about a third of the rows, the ten
// districts (customers, history, orders, order lines) the rest.
Status write_tpcc(const fs::path& path, double scale, std::uint64_t seed, const std::function<void(double)>& progress) {
    std::error_code ec;
    fs::remove(path, ec);
    Db db;
    if (sqlite3_open(path.c_str(), &db.db) != SQLITE_OK) return fail_msg("sqlite open " + path.string());
    for (const char* pragma : {"PRAGMA journal_mode=OFF", "PRAGMA synchronous=OFF", "PRAGMA page_size=4096"})
        if (auto s = db.exec(pragma); !s) return s;
    if (auto s = db.exec(kSchema); !s) return s;
    if (auto s = db.exec("BEGIN"); !s) return s;
    Rng rng{seed};
    const std::int64_t districts = 10;
    const std::int64_t customers = std::max<std::int64_t>(1, std::llround(3000 * scale));
    const std::int64_t items = std::max<std::int64_t>(1, std::llround(100000 * scale));
    auto w = prepare(db, "warehouse", 9), d = prepare(db, "district", 11), c = prepare(db, "customer", 21),
         h = prepare(db, "history", 8), no = prepare(db, "new_order", 3), o = prepare(db, "orders", 8),
         ol = prepare(db, "order_line", 10), it = prepare(db, "item", 5), st = prepare(db, "stock", 17);
    for (auto* p : {&w, &d, &c, &h, &no, &o, &ol, &it, &st})
        if (!*p) return fail(std::move(p->error()));
    Status s;
    auto put = [&](Status r) {
        if (s && !r) s = std::move(r);
    };
    for (std::int64_t i = 1; i <= items && s; ++i)
        put((*it)->row({i, rng.range(1, 10000), rng.text(14, 24), rng.money(100, 10000), rng.text(26, 50)}));
    put((*w)->row({std::int64_t{1}, rng.text(6, 10), rng.text(10, 20), rng.text(10, 20), rng.text(10, 20), rng.alnum(2),
                   rng.alnum(9), rng.money(0, 2000) / 100, 300000.0}));
    if (progress) progress(0.15);
    for (std::int64_t i = 1; i <= items && s; ++i) {
        put((*st)->row({i, std::int64_t{1}, rng.range(10, 100), rng.alnum(24), rng.alnum(24), rng.alnum(24),
                        rng.alnum(24), rng.alnum(24), rng.alnum(24), rng.alnum(24), rng.alnum(24), rng.alnum(24),
                        rng.alnum(24), std::int64_t{0}, std::int64_t{0}, std::int64_t{0}, rng.text(26, 50)}));
    }
    if (progress) progress(0.3);
    for (std::int64_t di = 1; di <= districts && s; ++di) {
        if (progress && di > 1) progress(0.3 + 0.7 * static_cast<double>(di - 1) / districts);
        put((*d)->row({di, std::int64_t{1}, rng.text(6, 10), rng.text(10, 20), rng.text(10, 20), rng.text(10, 20),
                       rng.alnum(2), rng.alnum(9), rng.money(0, 2000) / 100, 30000.0, customers + 1}));
        for (std::int64_t ci = 1; ci <= customers && s; ++ci) {
            put((*c)->row({ci,
                           di,
                           std::int64_t{1},
                           rng.text(8, 16),
                           std::string("OE"),
                           rng.text(8, 16),
                           rng.text(10, 20),
                           rng.text(10, 20),
                           rng.text(10, 20),
                           rng.alnum(2),
                           rng.alnum(9),
                           rng.alnum(16),
                           kEpoch,
                           std::string(rng.range(0, 9) ? "GC" : "BC"),
                           50000.0,
                           rng.money(0, 5000) / 100,
                           -10.0,
                           10.0,
                           std::int64_t{1},
                           std::int64_t{0},
                           rng.text(300, 500)}));
            put((*h)->row({ci, di, std::int64_t{1}, di, std::int64_t{1}, kEpoch, 10.0, rng.text(12, 24)}));
        }
        for (std::int64_t oi = 1; oi <= customers && s; ++oi) {
            std::int64_t lines = rng.range(5, 15);
            bool delivered = oi <= customers * 7 / 10;
            put((*o)->row({oi, di, std::int64_t{1}, rng.range(1, customers), kEpoch,
                           delivered ? rng.range(1, 10) : std::int64_t{0}, lines, std::int64_t{1}}));
            for (std::int64_t n = 1; n <= lines && s; ++n)
                put((*ol)->row({oi, di, std::int64_t{1}, n, rng.range(1, items), std::int64_t{1},
                                delivered ? kEpoch : std::int64_t{0}, std::int64_t{5},
                                delivered ? 0.0 : rng.money(1, 999999), rng.alnum(24)}));
            if (!delivered) put((*no)->row({oi, di, std::int64_t{1}}));
        }
    }
    if (!s) return s;
    return db.exec("COMMIT");
}

Status write_files(const fs::path& dir, const fs::path& tar, int count, std::uint64_t seed, const Progress& progress) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::create_directories(dir, ec);
    if (ec) return fail(Error::sys(ec.value(), "mkdir " + dir.string()));
    Rng rng{seed ^ static_cast<std::uint64_t>(count)};
    archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);  // ustar where possible: plain and portable
    if (archive_write_open_filename(a, tar.c_str()) != ARCHIVE_OK) {
        std::string m = archive_error_string(a);
        archive_write_free(a);
        return fail_msg("libarchive open " + tar.string() + ": " + m);
    }
    archive_entry* e = archive_entry_new();
    Status s;
    for (int i = 0; i < count && s; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "f%06d", i);  // sorted by name = written in order
        // 4096 random alphanumeric bytes; 62^4096 possibilities: two alike never happens in practice,
        // and the tests check it.
        std::string data = rng.alnum(4096);
        std::ofstream(dir / name, std::ios::binary) << data;
        archive_entry_clear(e);
        archive_entry_set_pathname(e, (std::string("files/") + name).c_str());
        archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_mtime(e, kEpoch, 0);
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
        if (archive_write_header(a, e) != ARCHIVE_OK || archive_write_data(a, data.data(), data.size()) < 0)
            s = fail_msg("libarchive write " + tar.string() + ": " + archive_error_string(a));
        if (progress && (i + 1) % 5000 == 0) progress("files-" + std::to_string(count), double(i + 1) / count);
    }
    archive_entry_free(e);
    if (archive_write_close(a) != ARCHIVE_OK && s)
        s = fail_msg("libarchive close " + tar.string() + ": " + archive_error_string(a));
    archive_write_free(a);
    return s;
}

namespace {

// "<generator version> <seed>": a dataset is reused only when it was made the same way.
std::string stamp(std::uint64_t seed) {
    return std::to_string(kGeneratorVersion) + " " + std::to_string(seed);
}

bool up_to_date(const fs::path& stamp_file, std::uint64_t seed) {
    std::ifstream in(stamp_file);
    std::string line;
    std::getline(in, line);
    return line == stamp(seed);
}

}  // namespace

Result<fs::path> ensure_tpcc(const fs::path& root, const std::string& size, std::uint64_t seed,
                             const Progress& progress) {
    const TpccSize* t = nullptr;
    for (const auto& s : tpcc_sizes())
        if (s.name == size) t = &s;
    if (!t) return fail_msg("unknown database size '" + size + "'");
    auto path = root / ("tpcc-" + size + ".sqlite");
    auto stamp_file = root / ("tpcc-" + size + ".stamp");
    if (fs::exists(path) && up_to_date(stamp_file, seed)) return path;
    std::error_code ec;
    fs::create_directories(root, ec);
    if (progress) progress("tpcc-" + size, 0);
    auto tell = [&](double f) {
        if (progress) progress("tpcc-" + size, f);
    };
    if (auto s = write_tpcc(path, t->scale, seed, tell); !s)
        return fail(std::move(s.error()).wrap("generate " + path.string()));
    std::ofstream(stamp_file) << stamp(seed) << "\n";
    if (progress) progress("tpcc-" + size, 1);
    return path;
}

Result<fs::path> ensure_files(const fs::path& root, int count, std::uint64_t seed, const Progress& progress) {
    auto dir = root / ("files-" + std::to_string(count));
    auto stamp_file = dir / "stamp";
    if (fs::exists(dir / "files.tar") && up_to_date(stamp_file, seed)) return dir;
    if (progress) progress("files-" + std::to_string(count), 0);
    if (auto s = write_files(dir / "files", dir / "files.tar", count, seed, progress); !s)
        return fail(std::move(s.error()).wrap("generate " + dir.string()));
    std::ofstream(stamp_file) << stamp(seed) << "\n";
    if (progress) progress("files-" + std::to_string(count), 1);
    return dir;
}

}  // namespace ctrbench::datasets

// The generators: byte-identical for a seed, the thesis's sizes within 10%, files all different.
#include "datasets/datasets.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>

using namespace ctrbench;
namespace fs = std::filesystem;

namespace {

fs::path temp(const std::string& tag) {
    auto d = fs::temp_directory_path() / ("ctrbench-ds-" + std::to_string(::getpid()) + "-" + tag);
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

TEST(Datasets, SameSeedSameBytesOtherSeedOtherBytes) {
    auto a = temp("a"), b = temp("b"), c = temp("c");
    ASSERT_TRUE(datasets::ensure_tpcc(a, "536.6kB", 7));
    ASSERT_TRUE(datasets::ensure_tpcc(b, "536.6kB", 7));
    ASSERT_TRUE(datasets::ensure_tpcc(c, "536.6kB", 8));
    EXPECT_EQ(slurp(a / "tpcc-536.6kB.sqlite"), slurp(b / "tpcc-536.6kB.sqlite"));
    EXPECT_NE(slurp(a / "tpcc-536.6kB.sqlite"), slurp(c / "tpcc-536.6kB.sqlite"));
    ASSERT_TRUE(datasets::ensure_files(a, 100, 7));
    ASSERT_TRUE(datasets::ensure_files(b, 100, 7));
    ASSERT_TRUE(datasets::ensure_files(c, 100, 8));
    EXPECT_EQ(slurp(a / "files-100/files.tar"), slurp(b / "files-100/files.tar"));
    EXPECT_NE(slurp(a / "files-100/files.tar"), slurp(c / "files-100/files.tar"));
    for (auto d : {a, b, c}) fs::remove_all(d);
}

TEST(Datasets, DatabaseSizesMatchTheThesisWithinTenPercent) {
    auto d = temp("sizes");
    for (const auto& s : datasets::tpcc_sizes()) {
        auto p = datasets::ensure_tpcc(d, s.name, datasets::kDefaultSeed);
        ASSERT_TRUE(p) << p.error().message();
        double got = static_cast<double>(fs::file_size(*p));
        EXPECT_NEAR(got, static_cast<double>(s.bytes), 0.10 * static_cast<double>(s.bytes)) << s.name;
    }
    fs::remove_all(d);
}

TEST(Datasets, FilesAreDistinct4096AlphanumericBytesAndTheTarHoldsThemAll) {
    auto d = temp("files");
    auto dir = datasets::ensure_files(d, 1000, datasets::kDefaultSeed);
    ASSERT_TRUE(dir);
    std::set<std::string> seen;
    for (const auto& e : fs::directory_iterator(*dir / "files")) {
        auto data = slurp(e.path());
        ASSERT_EQ(data.size(), 4096u);
        for (char ch : data) ASSERT_TRUE(std::isalnum(static_cast<unsigned char>(ch)));
        seen.insert(data);
    }
    EXPECT_EQ(seen.size(), 1000u) << "no two files alike";
    archive* a = archive_read_new();
    archive_read_support_format_tar(a);
    ASSERT_EQ(archive_read_open_filename(a, (*dir / "files.tar").c_str(), 65536), ARCHIVE_OK);
    archive_entry* e;
    int entries = 0;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        EXPECT_EQ(archive_entry_size(e), 4096);
        ++entries;
    }
    archive_read_free(a);
    EXPECT_EQ(entries, 1000);
    fs::remove_all(d);
}

TEST(Datasets, CachedUnlessSeedOrGeneratorChanged) {
    auto d = temp("cache");
    ASSERT_TRUE(datasets::ensure_tpcc(d, "151.6kB", 1));
    auto t1 = fs::last_write_time(d / "tpcc-151.6kB.sqlite");
    ASSERT_TRUE(datasets::ensure_tpcc(d, "151.6kB", 1));
    EXPECT_EQ(fs::last_write_time(d / "tpcc-151.6kB.sqlite"), t1) << "reused, not made again";
    ASSERT_TRUE(datasets::ensure_tpcc(d, "151.6kB", 2));
    std::ifstream stamp(d / "tpcc-151.6kB.stamp");
    std::string line;
    std::getline(stamp, line);
    EXPECT_EQ(line, std::to_string(datasets::kGeneratorVersion) + " 2");
    EXPECT_FALSE(datasets::ensure_tpcc(d, "3TB", 1));
    fs::remove_all(d);
}

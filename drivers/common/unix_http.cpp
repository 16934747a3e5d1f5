#include "drivers/common/unix_http.h"

#include <httplib.h>
#include <sys/socket.h>

namespace ctrbench {

Result<UnixHttp::Reply> UnixHttp::call(const std::string& method, const std::string& path, const std::string& body,
                                       const std::string& content_type, std::chrono::milliseconds timeout,
                                       std::initializer_list<int> expect) {
    httplib::Client cli(socket_);
    cli.set_address_family(AF_UNIX);
    cli.set_connection_timeout(std::chrono::seconds(5));
    cli.set_read_timeout(std::chrono::duration_cast<std::chrono::seconds>(timeout) + std::chrono::seconds(1));
    cli.set_write_timeout(std::chrono::seconds(60));
    const std::string what = engine_ + " " + method + " " + path.substr(0, path.find('?'));
    // Over a unix socket httplib would send the socket path as Host, which Docker rejects.
    const httplib::Headers headers = {{"Host", "localhost"}};
    httplib::Result res(nullptr, httplib::Error::Unknown);
    if (method == "GET")
        res = cli.Get(path, headers);
    else if (method == "POST")
        res = cli.Post(path, headers, body, content_type);
    else if (method == "PUT")
        res = cli.Put(path, headers, body, content_type);
    else if (method == "DELETE")
        res = cli.Delete(path, headers);
    else
        return fail_msg(what + ": unsupported method");
    if (!res) {
        auto e = res.error();
        if (e == httplib::Error::Read && timeout.count() > 0) return fail(Error::sys(ETIMEDOUT, what));
        if (e == httplib::Error::Connection)
            return fail_msg(what + ": cannot connect to " + socket_ + " (is " + daemon_ + " running? permission?)");
        return fail_msg(what + ": " + httplib::to_string(e));
    }
    Reply r{res->status, res->body};
    for (int ok : expect)
        if (r.status == ok) return r;
    std::string msg = r.body;  // the daemon's message, else the body as it came
    auto j = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    for (const char* key : {"message", "error"})
        if (j.is_object() && j.contains(key) && j[key].is_string() && !j[key].get<std::string>().empty()) {
            msg = j[key].get<std::string>();
            break;
        }
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    return fail_msg(what + ": HTTP " + std::to_string(r.status) + ": " + msg);
}

Result<nlohmann::json> UnixHttp::json(const std::string& method, const std::string& path, const nlohmann::json& body,
                                      std::chrono::milliseconds timeout) {
    auto r = call(method, path, body.is_null() ? "" : body.dump(), "application/json", timeout);
    if (!r) return fail(std::move(r.error()));
    if (r->body.empty()) return nlohmann::json::object();
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    if (j.is_discarded()) return fail_msg(engine_ + " " + method + " " + path + ": reply is not JSON");
    return j;
}

}  // namespace ctrbench

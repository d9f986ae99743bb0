-- Copied from shared/tools/modsec-reference/bench/post_json.lua (the modsec-reference lab, same shapes as its
-- reference throughput figures; article.json is its 1,097-byte body, copied too) so that bench/ keeps working
-- if shared/ moves. Keep the two in sync.
-- wrk script: POST a ~1.1 KB realistic JSON article body (article.json next to this script) with browser-like
-- headers. The body file is found relative to this script; MODSEC_REF_BODY overrides it.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local path = os.getenv("MODSEC_REF_BODY") or (here .. "article.json")
local f = assert(io.open(path, "rb"))
local body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.path = "/api/v1/articles"
wrk.body = body
wrk.headers["Host"] = "api.example.com"
wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
wrk.headers["Accept"] = "application/json"
wrk.headers["Content-Type"] = "application/json"

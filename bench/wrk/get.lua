-- Copied from shared/tools/modsec-reference/bench/get.lua (the modsec-reference lab, same shapes as its
-- reference throughput figures) so that bench/ keeps working if shared/ moves. Keep the two in sync.
-- wrk script: GET with a realistic query string and browser-like headers.
wrk.method = "GET"
wrk.path = "/api/v1/articles?articleId=42&lang=en&q=machine%20learning"
wrk.headers["Host"] = "api.example.com"
wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
wrk.headers["Accept"] = "application/json"

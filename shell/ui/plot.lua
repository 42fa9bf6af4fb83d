-- plot.lua - a picture to keep (ringlab.plot): lab.plot{} writes an SVG.
--
--   lab.plot{file="x.svg", title="...", series={{label="copy", ledger=l}, ...}}
--   lab.plot{file="x.svg"}            -- every open engine's ledger
--   lab.plot{file="x.svg", engines={a, b}, per_packet=true}
--
-- The picture has two parts: grouped bars, one group per ledger category
-- (copied, referenced, headers, kernel_copied, driver_copied, touched), one
-- bar per series (a strategy or an engine), in bytes or bytes per packet;
-- and, when the live view has sampled the engines (ringlab.watch keeps the
-- samples), packets per second over time, one line per engine. Hand-written
-- SVG 1.1: every text is escaped, so the file is valid XML.

local P = {}

local CATS = { "copied", "referenced", "headers", "kernel_copied", "driver_copied", "touched" }
local PALETTE = { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f" }

local function esc(s)
  return (tostring(s):gsub("[&<>\"']", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;",
    ['"'] = "&quot;", ["'"] = "&apos;" }))
end

local function num(n)
  if n >= 1e9 then return string.format("%.1f G", n / 1e9) end
  if n >= 1e6 then return string.format("%.1f M", n / 1e6) end
  if n >= 1e4 then return string.format("%.1f k", n / 1e3) end
  if n == math.floor(n) then return string.format("%d", math.floor(n)) end
  return string.format("%.1f", n)
end

local function text(out, x, y, s, attrs)
  out[#out + 1] = string.format('<text x="%.1f" y="%.1f"%s>%s</text>', x, y, attrs or "", esc(s))
end

-- Series from open engines (or the given ones): their ledgers now. Per
-- packet is the send part per packet sent (the receive part per packet
-- received for an engine that only received), as show ledger divides each
-- path's part by its own count.
local function engine_series(engines, per_packet)
  local out = {}
  for _, e in ipairs(engines or lab.opened()) do
    local info, st = e:info(), e:stats()
    local sent = st.tx_pkts > 0
    out[#out + 1] = { label = string.format("%s %s%s", info.name, st.mode,
      per_packet and (sent and " (per sent)" or " (per received)") or ""),
      ledger = per_packet and (sent and st.ledger.tx or st.ledger.rx) or st.ledger,
      pkts = sent and st.tx_pkts or st.rx_pkts }
  end
  return out
end

local function value(s, cat, per_packet)
  local v = s.ledger[cat] or 0
  if per_packet then v = (s.pkts and s.pkts > 0) and v / s.pkts or 0 end
  return v
end

local function bars(out, series, per_packet, top, h, w)
  local max = 1
  for _, s in ipairs(series) do
    for _, c in ipairs(CATS) do max = math.max(max, value(s, c, per_packet)) end
  end
  local left, gw = 70, (w - 90) / #CATS
  local bw = math.max(2, (gw - 16) / math.max(#series, 1))
  text(out, 10, top - 8, per_packet and "ledger: bytes per packet" or "ledger: bytes", ' font-weight="bold"')
  out[#out + 1] = string.format('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#000"/>', left, top + h, w - 20, top + h)
  for i = 0, 4 do
    local y = top + h - h * i / 4
    out[#out + 1] = string.format('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>', left, y, w - 20, y)
    text(out, left - 6, y + 4, num(max * i / 4), ' text-anchor="end" font-size="11"')
  end
  for ci, c in ipairs(CATS) do
    local gx = left + (ci - 1) * gw + 8
    for si, s in ipairs(series) do
      local v = value(s, c, per_packet)
      local bh = h * v / max
      out[#out + 1] = string.format('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>',
        gx + (si - 1) * bw, top + h - bh, bw - 1, bh, PALETTE[(si - 1) % #PALETTE + 1],
        esc(string.format("%s %s: %s", s.label, c, num(v))))
    end
    text(out, gx + gw / 2 - 8, top + h + 16, c, ' text-anchor="middle" font-size="12"')
  end
  for si, s in ipairs(series) do
    local y = top + h + 34 + (si - 1) * 16
    out[#out + 1] = string.format('<rect x="%d" y="%d" width="12" height="12" fill="%s"/>', left, y - 10,
      PALETTE[(si - 1) % #PALETTE + 1])
    text(out, left + 18, y, s.label, ' font-size="12"')
  end
  return top + h + 34 + #series * 16
end

-- Packets per second between consecutive samples, per engine.
local function rate_points(hist)
  local pts = {}
  for i = 2, #hist do
    local dt = hist[i].t - hist[i - 1].t
    if dt > 0 then
      pts[#pts + 1] = { t = hist[i].t - hist[1].t,
        v = ((hist[i].tx_pkts - hist[i - 1].tx_pkts) + (hist[i].rx_pkts - hist[i - 1].rx_pkts)) / dt }
    end
  end
  return pts
end

local function rates(out, history, top, h, w)
  local lines, tmax, vmax = {}, 1e-9, 1
  local labels = {}
  for label in pairs(history) do labels[#labels + 1] = label end
  table.sort(labels)
  for _, label in ipairs(labels) do
    local pts = rate_points(history[label])
    if #pts > 0 then
      lines[#lines + 1] = { label = label, pts = pts }
      for _, p in ipairs(pts) do tmax, vmax = math.max(tmax, p.t), math.max(vmax, p.v) end
    end
  end
  if #lines == 0 then return top end
  local left = 70
  text(out, 10, top - 8, "packets per second (tx + rx) over time", ' font-weight="bold"')
  out[#out + 1] = string.format('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#000"/>', left, top, w - 90, h)
  text(out, left - 6, top + 4, num(vmax), ' text-anchor="end" font-size="11"')
  text(out, w - 20, top + h + 16, string.format("%.1f s", tmax), ' text-anchor="end" font-size="11"')
  for i, l in ipairs(lines) do
    local pts = {}
    for _, p in ipairs(l.pts) do
      pts[#pts + 1] = string.format("%.1f,%.1f", left + (w - 90) * p.t / tmax, top + h - h * p.v / vmax)
    end
    local c = PALETTE[(i - 1) % #PALETTE + 1]
    out[#out + 1] = string.format('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>', c,
      table.concat(pts, " "))
    text(out, left + 8, top + 16 * i, l.label, string.format(' font-size="12" fill="%s"', c))
  end
  return top + h + 24
end

-- lab.plot{file=, title=, series=, engines=, per_packet=, width=}
function P.plot(opts)
  if type(opts) ~= "table" or type(opts.file) ~= "string" then
    error('plot: give a table with file= - e.g. lab.plot{file="ledger.svg"}', 2)
  end
  -- every argument checked here, so a wrong one is named in one line
  -- rather than failing deep inside the drawing
  local function bad(what, fix) error("plot: " .. what .. " - " .. fix, 3) end
  local w = opts.width or 800
  if type(w) ~= "number" or w ~= math.floor(w) or w < 300 or w > 10000 then
    bad("width=" .. tostring(opts.width) .. " is not a width in pixels", "give a whole number 300 .. 10000, e.g. width=800")
  end
  if opts.title ~= nil and type(opts.title) ~= "string" then
    bad("title= is a " .. type(opts.title) .. ", not a string", 'give title="..."')
  end
  if opts.series ~= nil then
    if type(opts.series) ~= "table" then bad("series= is a " .. type(opts.series) .. ", not a list", 'give series={{label="copy", ledger=e:stats().ledger}, ...}') end
    for i, s in ipairs(opts.series) do
      if type(s) ~= "table" or type(s.ledger) ~= "table" then
        bad("series[" .. i .. "] has no ledger= table", 'give {label="copy", ledger=e:stats().ledger}')
      end
      if s.label ~= nil and type(s.label) ~= "string" then bad("series[" .. i .. "].label is not a string", 'give label="copy"') end
    end
  end
  if opts.engines ~= nil then
    if type(opts.engines) ~= "table" then bad("engines= is a " .. type(opts.engines) .. ", not a list", "give engines={a, b} (engine handles)") end
    for i, e in ipairs(opts.engines) do
      local ok, info = pcall(function() return e:info() end)
      if not ok or type(info) ~= "table" then
        bad("engines[" .. i .. "] is not an open engine (" .. tostring(e) .. ")", "give engines={a, b} with handles from lab.open")
      end
    end
  end
  if opts.history ~= nil and type(opts.history) ~= "table" then
    bad("history= is a " .. type(opts.history) .. ", not a list of samples", "leave it out (the live view's samples are used)")
  end
  local series = opts.series or engine_series(opts.engines, opts.per_packet)
  local body = {}
  text(body, 10, 24, opts.title or "ringlab: where the bytes went", ' font-size="16" font-weight="bold"')
  local y = bars(body, series, opts.per_packet, 60, 240, w)
  local history = opts.history or require("ringlab.watch").history
  y = rates(body, history, y + 40, 180, w)
  local f, err = io.open(opts.file, "w")
  if not f then error("plot: cannot write " .. opts.file .. ": " .. tostring(err) .. " - pick a writable path", 2) end
  -- every write and the close checked: a full disk is an error, not a
  -- half-written picture reported as made
  local ok, werr = f:write('<?xml version="1.0" encoding="UTF-8"?>\n',
    string.format('<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="%d" height="%d" font-family="sans-serif">\n',
      w, math.floor(y + 20)),
    '<rect width="100%" height="100%" fill="#fff"/>\n',
    table.concat(body, "\n"), "\n</svg>\n")
  if ok then ok, werr = f:flush() end
  local cok, cerr = f:close()
  if not ok or not cok then
    error("plot: writing " .. opts.file .. " failed: " .. tostring(werr or cerr) ..
      " - the picture is incomplete; free space or pick another path", 2)
  end
  return opts.file
end

return P

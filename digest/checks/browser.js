// Runs inside the email's page (digest/checks/browser.py): the text contrast and text size of
// what a reader sees, from the computed colours and sizes. Returns plain data.
//   args.canvas   [r, g, b] of what the client paints behind the email (light: white; dark:
//                 a dark grey, as Apple Mail or Outlook in dark mode)
//   args.phone    true at phone width: also report running text below args.minPx
//   args.dark     forced dark mode: text left in the browser's default colours is skipped, as
//                 a client that paints the canvas dark recolours it too; what the email set
//                 itself, and its own dark-mode rules, are what can end up dark on dark
(args) => {
  const DEFAULTS = ["0,0,0", "0,0,238", "85,26,139"];  // text, link, visited link
  const parse = (css) => {
    const found = /rgba?\(([^)]+)\)/.exec(css || "");
    if (!found) return null;
    const p = found[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat([1]);
  };
  const luminance = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const ratio = (a, b) => {
    const [x, y] = [luminance(a), luminance(b)];
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  };
  const hex = (c) => "#" + c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, "0")).join("");
  const path = (el) => {
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 3; e = e.parentElement) {
      const cls = Array.from(e.classList).filter((c) => !c.startsWith("mj-")).slice(0, 2);
      parts.unshift(e.tagName.toLowerCase() + cls.map((c) => "." + c).join(""));
    }
    return parts.join(" > ");
  };
  // What is painted behind an element, and whether it can be seen: each element's answer is
  // kept, so a page of a thousand elements asks the browser about each one once.
  const backs = new Map();
  const behind = (el) => {
    if (!el) return { colour: args.canvas.concat([1]), image: false };
    if (backs.has(el)) return backs.get(el);
    const style = getComputedStyle(el);
    const colour = parse(style.backgroundColor);
    let found;
    if (colour && colour[3] >= 1) {
      found = { colour, image: style.backgroundImage !== "none" };
    } else {
      const below = behind(el.parentElement);
      found = { colour: colour && colour[3] > 0 ? over(colour, below.colour) : below.colour,
                image: below.image || style.backgroundImage !== "none" };
    }
    backs.set(el, found);
    return found;
  };
  const visible = new Map();
  const seeable = (el) => {
    if (!el) return true;
    if (visible.has(el)) return visible.get(el);
    const style = getComputedStyle(el);
    const clipped = style.overflow === "hidden" && el.getBoundingClientRect().height < 2;
    const ok = !(style.visibility === "hidden" || style.display === "none" ||
                 Number(style.opacity) === 0 || clipped) && seeable(el.parentElement);
    visible.set(el, ok);
    return ok;
  };
  const shown = (el) => {
    const box = el.getBoundingClientRect();
    return box.width >= 1 && box.height >= 1 && seeable(el);
  };
  const contrast = [];
  const small = [];
  for (const el of document.body.querySelectorAll("*")) {
    const own = Array.from(el.childNodes)
      .filter((n) => n.nodeType === Node.TEXT_NODE)
      .map((n) => n.textContent).join(" ").replace(/\s+/g, " ").trim();
    if (!own || !shown(el)) continue;
    const style = getComputedStyle(el);
    const size = parseFloat(style.fontSize);
    const weight = parseInt(style.fontWeight, 10) || 400;
    const large = size >= 24 || (size >= 18.66 && weight >= 700);
    const need = large ? 3 : 4.5;
    const back = behind(el);
    const fore = parse(style.color);
    const untouched = args.dark && fore && DEFAULTS.includes(fore.slice(0, 3).join(","));
    if (fore && !back.image && !untouched) {
      const ink = over(fore, back.colour);
      const got = ratio(ink, back.colour);
      if (got < need) {
        contrast.push({ where: path(el), text: own.slice(0, 80), ratio: Math.round(got * 100) / 100,
                        need, fg: hex(ink), bg: hex(back.colour), size });
      }
    }
    if (args.phone && size < args.minPx && own.length >= args.bodyChars) {
      small.push({ where: path(el), text: own.slice(0, 80), size });
    }
  }
  return { contrast, small };
}

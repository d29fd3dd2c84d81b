// A signature of what a widget shows (its images and output text, not its controls).
(cell) => {
  const parts = [];
  cell.querySelectorAll('.jp-OutputArea-output img').forEach(i => parts.push(i.src));
  cell.querySelectorAll('.widget-output, .widget-html-content').forEach(o => parts.push(o.innerText));
  return parts.join('\n');
}

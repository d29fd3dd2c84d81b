// What the browser test reads off a JupyterLab notebook page after "Run All Cells".
// Returns plain data; tests/browser/test_lessons_in_browser.py asserts on it.
() => {
  const notebook = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
  const cells = Array.from(notebook.querySelectorAll('.jp-CodeCell'));
  const source = c => c.querySelector('.jp-InputArea-editor').innerText;
  const outputs = Array.from(notebook.querySelectorAll('.jp-OutputArea-output'));
  const stderr = outputs.filter(o => o.dataset.mimeType === 'application/vnd.jupyter.stderr');
  const images = Array.from(notebook.querySelectorAll('.jp-OutputArea-output img'));
  const summary = cells.find(c => source(c).includes('checks.summary()'));
  const widgetCell = cells.find(c => c.querySelector('.jp-OutputArea .widget-slider'));
  return {
    prompts: cells.map(c => c.querySelector('.jp-InputPrompt').textContent.trim()),
    stderr: stderr.map(o => o.innerText.slice(0, 500)),
    widgetErrors: (notebook.innerText.match(/Error displaying widget[^\n]*/g) || []),
    images: images.length,
    brokenImages: images.filter(i => !(i.complete && i.naturalWidth > 0)).length,
    summary: summary ? summary.querySelector('.jp-OutputArea').innerText : null,
    widget: widgetCell ? {
      source: source(widgetCell).slice(0, 120),
      sliders: widgetCell.querySelectorAll('.widget-slider').length,
      controls: widgetCell.querySelectorAll('.widget-slider, .widget-dropdown, .widget-toggle-buttons, .widget-checkbox, .widget-button').length,
      index: cells.indexOf(widgetCell),
    } : null,
  };
}

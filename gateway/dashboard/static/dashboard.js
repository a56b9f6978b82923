// The dashboard's only script, served by the app itself (CSP script-src 'self'); every page works without it.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // "Select all" in the dead-letter table ticks every shown row.
  const all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", () => {
      for (const box of document.querySelectorAll("input.pick")) box.checked = all.checked;
    });
  }
  // A replay form with nothing ticked would only come back with an error: say so before sending.
  const replay = document.getElementById("replay-form");
  if (replay) {
    replay.addEventListener("submit", (event) => {
      if (!replay.querySelector("input.pick:checked")) {
        event.preventDefault();
        window.alert("Tick the dead letters to replay first.");
      }
    });
  }
  // One click, one replay: the confirm button is disabled once the form is on its way.
  const confirmForm = document.getElementById("confirm-form");
  if (confirmForm) {
    confirmForm.addEventListener("submit", () => {
      const button = document.getElementById("confirm-replay");
      // Disabled buttons are not submitted, so carry their value in a hidden field first.
      const carried = document.createElement("input");
      carried.type = "hidden";
      carried.name = "confirm";
      carried.value = "yes";
      confirmForm.appendChild(carried);
      if (button) button.disabled = true;
    });
  }
});

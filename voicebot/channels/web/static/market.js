// The village market: a shop's speaker button says its name and goods; its photo leads into its chat.
"use strict";
(() => {
  const player = document.getElementById("player");
  const state = { played: [] };
  window.voicebotMarket = state;  // tests look inside
  for (const button of document.querySelectorAll(".shop .speak")) {
    button.addEventListener("click", () => {
      document.querySelectorAll(".shop.playing").forEach((x) => x.classList.remove("playing"));
      button.closest(".shop").classList.add("playing");
      player.src = button.dataset.say;
      state.played.push(button.dataset.say);
      player.play().catch((e) => console.warn("voicebot: cannot play", e));
    });
  }
  player.addEventListener("ended", () => {
    document.querySelectorAll(".shop.playing").forEach((x) => x.classList.remove("playing"));
  });
})();

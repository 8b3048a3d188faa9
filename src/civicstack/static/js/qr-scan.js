// The QR verifier pages' camera: reads the code from the device camera's frames, puts its
// text in the form's text box and sends the form, as a handheld scanner would.
//   <div data-qr-camera="ID of the text box" data-decoder="URL of jsQR" data-starting=...
//        data-looking=... data-found=... data-denied=...>: the sentences it says, in the
//   page's language, in its [data-camera-message] status line.
// The browser's BarcodeDetector reads the frames where it knows QR codes (Android, macOS,
// ChromeOS); elsewhere jsQR, served by this site, is loaded the first time it is needed.
// Without a camera API the button stays hidden; a refused permission or a missing camera is
// said, and the focus goes to the text box so that a paste or a scanner is the way on.
(function () {
  "use strict";
  var SCAN_EVERY_MS = 150;
  // A wallet's QR code is dense (version 20 to 30: 100 to 140 modules), so the camera is asked
  // for HD frames and jsQR reads them whole; a larger frame is scaled down to spare slow phones.
  var MAX_FRAME_WIDTH = 1280;
  var CAMERA = {facingMode: "environment", width: {ideal: 1280}, height: {ideal: 720}};

  function start(panel) {
    var field = document.getElementById(panel.dataset.qrCamera);
    var startButton = panel.querySelector("[data-camera-start]");
    var stopButton = panel.querySelector("[data-camera-stop]");
    var video = panel.querySelector("[data-camera-view]");
    var message = panel.querySelector("[data-camera-message]");
    var canvas = document.createElement("canvas");
    var stream = null;
    var timer = null;

    function say(text) { message.textContent = text; }

    function stop() {
      window.clearTimeout(timer);
      if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
      stream = null;
      video.hidden = true;
      stopButton.hidden = true;
      startButton.hidden = false;
    }

    function refused() {
      stop();
      say(panel.dataset.denied);
      field.focus();
    }

    function found(text) {
      stop();
      say(panel.dataset.found);
      field.value = text;
      field.form.requestSubmit();
    }

    function nativeDetector() {
      if (!("BarcodeDetector" in window)) { return Promise.resolve(null); }
      return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
        return formats.indexOf("qr_code") >= 0 ?
          new window.BarcodeDetector({formats: ["qr_code"]}) : null;
      }, function () { return null; });
    }

    function loadJsQR() {
      if (window.jsQR) { return Promise.resolve(); }
      return new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = panel.dataset.decoder;
        script.onload = resolve;
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }

    // One read of the current frame: the code's text, or null when none is seen.
    function reader(detector) {
      if (detector) {
        return function () {
          return detector.detect(video).then(function (codes) {
            return codes.length ? codes[0].rawValue : null;
          });
        };
      }
      var context = canvas.getContext("2d", {willReadFrequently: true});
      return function () {
        var scale = Math.min(1, MAX_FRAME_WIDTH / video.videoWidth);
        canvas.width = Math.round(video.videoWidth * scale);
        canvas.height = Math.round(video.videoHeight * scale);
        context.drawImage(video, 0, 0, canvas.width, canvas.height);
        var frame = context.getImageData(0, 0, canvas.width, canvas.height);
        var code = window.jsQR(frame.data, frame.width, frame.height,
                               {inversionAttempts: "dontInvert"});
        return Promise.resolve(code ? code.data : null);
      };
    }

    function scan(read) {
      if (!stream) { return; }
      var ready = video.readyState >= video.HAVE_CURRENT_DATA && video.videoWidth > 0;
      (ready ? read() : Promise.resolve(null)).then(function (text) {
        if (text) { found(text); } else { timer = window.setTimeout(scan, SCAN_EVERY_MS, read); }
      }, function () { timer = window.setTimeout(scan, SCAN_EVERY_MS, read); });
    }

    startButton.addEventListener("click", function () {
      say(panel.dataset.starting);
      navigator.mediaDevices.getUserMedia({video: CAMERA, audio: false})
        .then(function (opened) {
          stream = opened;
          video.srcObject = stream;
          video.hidden = false;
          startButton.hidden = true;
          stopButton.hidden = false;
          stopButton.focus();
          return Promise.all([video.play(), nativeDetector()]);
        })
        .then(function (results) {
          var detector = results[1];
          return (detector ? Promise.resolve() : loadJsQR()).then(function () {
            say(panel.dataset.looking);
            scan(reader(detector));
          });
        })
        .catch(refused);
    });
    stopButton.addEventListener("click", function () { stop(); say(""); startButton.focus(); });
    startButton.hidden = false;
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { return; }
    document.querySelectorAll("[data-qr-camera]").forEach(start);
  });
})();
